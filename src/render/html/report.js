/* cmtrace-rs HTML report: the filters and the id search over the devices, the details of what is clicked
   in a swimlane, every <details> open for printing. Vanilla JavaScript, no dependency, no network. Its own
   errors are recorded in <body data-errors>; <body data-ready="1"> says it is done. */
(function () {
  'use strict';
  var body = document.body;
  var errors = [];

  function record(message) {
    errors.push(String(message));
    body.setAttribute('data-errors', errors.join('\n'));
  }
  window.addEventListener('error', function (e) { record(e.message || 'error'); });
  window.addEventListener('unhandledrejection', function (e) { record('unhandled rejection: ' + e.reason); });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };

  function byId(id) { return document.getElementById(id); }
  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  /* Filters: rule, host, status (of the device or of a phase) and ids, all at once. */
  var rows = all(document, 'table.devices tbody tr');
  var rule = byId('f-rule'), host = byId('f-host'), status = byId('f-status'), query = byId('f-q');

  function wanted() {
    var q = query.value.toLowerCase().replace(/[{}]/g, '').split(/\s+/).filter(Boolean);
    return { rule: rule.value, host: host.value, status: status.value, terms: q };
  }

  function matches(row, want) {
    if (want.rule && row.getAttribute('data-rules').indexOf(' ' + want.rule + ' ') < 0) return false;
    if (want.host && row.getAttribute('data-hosts').split('\t').indexOf(want.host) < 0) return false;
    if (want.status) {
      var what = want.status.slice(2);
      if (want.status.charAt(0) === 's' && row.getAttribute('data-s') !== what) return false;
      if (want.status.charAt(0) === 'p' && row.getAttribute('data-ph').indexOf(what) < 0) return false;
    }
    var ids = row.getAttribute('data-ids') + ' ' + row.getAttribute('data-hosts').toLowerCase();
    return want.terms.every(function (t) { return ids.indexOf(t) >= 0; });
  }

  function applyFilters() {
    var want = wanted(), shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row, want);
      row.hidden = !ok;
      if (ok) shown++;
      var detail = row.getAttribute('data-detail');
      if (detail && byId(detail)) byId(detail).hidden = !ok;
    });
    byId('f-count').textContent = 'showing ' + shown + ' of ' + rows.length + ' device(s)';
    byId('no-match').hidden = shown > 0;
  }

  function setUpFilters() {
    if (!rule) return;
    [rule, host, status].forEach(function (s) { s.addEventListener('change', applyFilters); });
    query.addEventListener('input', applyFilters);
    byId('f-reset').addEventListener('click', function () {
      rule.value = host.value = status.value = query.value = '';
      applyFilters();
    });
    all(document, 'table.rules tbody tr').forEach(function (tr) {
      function pick() {
        rule.value = tr.getAttribute('data-rule');
        applyFilters();
        byId('devices').scrollIntoView();
      }
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') pick(); });
    });
    applyFilters();
  }

  /* The swimlane: a click on a mark, a pin or a phase shows the line it stands for (and those drawn at
     the same place on the same lane). */
  function copyOf(el) {
    if (el.tagName === 'TR') {
      var heads = all(el.closest('table'), 'thead th');
      var dl = document.createElement('dl');
      Array.prototype.forEach.call(el.cells, function (cell, i) {
        var dt = document.createElement('dt');
        dt.textContent = heads[i] ? heads[i].textContent : '';
        var dd = document.createElement('dd');
        Array.prototype.forEach.call(cell.childNodes, function (n) { dd.appendChild(n.cloneNode(true)); });
        dl.appendChild(dt);
        dl.appendChild(dd);
      });
      return dl;
    }
    var copy = el.cloneNode(true);
    copy.removeAttribute('id');
    all(copy, '[id]').forEach(function (n) { n.removeAttribute('id'); });
    return copy;
  }

  /* Where a mark is drawn: a pin says it (its flag is to the right), a mark is centred on it. */
  function xOf(m) {
    if (m.hasAttribute('data-x')) return parseFloat(m.getAttribute('data-x'));
    var box = m.getBBox();
    return box.x + box.width / 2;
  }

  function neighbours(mark) {
    var lane = mark.closest('.lane');
    if (!lane) return [mark];
    var x = xOf(mark);
    var near = all(lane, '[data-d]').filter(function (m) { return Math.abs(xOf(m) - x) <= 5; });
    near.sort(function (a, b) { return (a === mark ? -1 : 0) - (b === mark ? -1 : 0); });
    return near;
  }

  /* At most this many of the marks drawn at one place are shown at once. */
  var SHOWN_AT_ONCE = 8;

  function reveal(id) {
    var el = byId(id);
    if (!el) return;
    var d = el.closest('details');
    if (d) d.open = true;
    all(document, '.hl').forEach(function (n) { n.classList.remove('hl'); });
    el.classList.add('hl');
    el.scrollIntoView({ block: 'center' });
  }

  function show(mark) {
    var figure = mark.closest('figure');
    var panel = figure && figure.querySelector('.panel');
    if (!panel) return;
    all(figure, '.sel').forEach(function (n) { n.classList.remove('sel'); });
    mark.classList.add('sel');
    panel.textContent = '';
    var close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.textContent = 'Close';
    close.addEventListener('click', function () { panel.hidden = true; mark.classList.remove('sel'); });
    panel.appendChild(close);
    var near = neighbours(mark);
    near.slice(0, SHOWN_AT_ONCE).forEach(function (m) {
      var id = m.getAttribute('data-d'), target = byId(id);
      if (!target) return;
      addTitle(m);
      var item = document.createElement('div');
      item.className = 'item';
      var title = m.querySelector('title');
      var head = document.createElement('b');
      head.textContent = title ? title.textContent : id;
      item.appendChild(head);
      item.appendChild(copyOf(target));
      var go = document.createElement('a');
      go.href = '#' + id;
      go.textContent = 'Show it in the report';
      go.addEventListener('click', function (e) { e.preventDefault(); reveal(id); });
      item.appendChild(go);
      panel.appendChild(item);
    });
    if (near.length > SHOWN_AT_ONCE) {
      var more = document.createElement('p');
      more.className = 'note';
      more.textContent = (near.length - SHOWN_AT_ONCE) + ' more at this place: the flow events table below lists them all.';
      panel.appendChild(more);
    }
    panel.hidden = false;
  }

  /* An event's mark gets its tooltip from its row when the pointer first reaches it: UTC and event. */
  function addTitle(mark) {
    if (mark.querySelector('title')) return;
    var row = byId(mark.getAttribute('data-d'));
    if (!row || row.tagName !== 'TR') return;
    var title = document.createElementNS(mark.namespaceURI, 'title');
    title.textContent = row.cells[0].textContent + ' · ' + row.cells[3].textContent;
    mark.appendChild(title);
  }

  function setUpSwimlanes() {
    all(document, 'svg.swim').forEach(function (svg) {
      svg.addEventListener('mouseover', function (e) {
        var mark = e.target.closest('[data-d]');
        if (mark) addTitle(mark);
      });
      svg.addEventListener('click', function (e) {
        var mark = e.target.closest('[data-d]');
        if (mark) show(mark);
      });
      svg.addEventListener('keydown', function (e) {
        var mark = e.target.closest('[data-d]');
        if (mark && (e.key === 'Enter' || e.key === ' ')) {
          e.preventDefault();
          show(mark);
        }
      });
    });
  }

  /* Links into the page: #ID shows that row or block (opening its table), #show=ID clicks the mark of
     the swimlane that stands for it, #rule=R&host=H&status=S&q=TEXT sets the filters (any of them). */
  function setFilters(pairs) {
    var fields = { rule: rule, host: host, status: status, q: query };
    pairs.split('&').forEach(function (pair) {
      var at = pair.indexOf('=');
      var field = fields[pair.slice(0, at)];
      if (field) field.value = decodeURIComponent(pair.slice(at + 1));
    });
    applyFilters();
  }

  function followHash() {
    if (/^(rule|host|status|q)=/.test(location.hash.slice(1)) && rule) {
      setFilters(location.hash.slice(1));
      return;
    }
    var hash = decodeURIComponent(location.hash.slice(1));
    if (hash.indexOf('show=') === 0) {
      var id = hash.slice(5);
      var mark = all(document, 'svg.swim [data-d]').filter(function (m) {
        return m.getAttribute('data-d') === id;
      })[0];
      if (mark) {
        show(mark);
        mark.closest('figure').scrollIntoView();
      }
    } else if (hash && byId(hash)) {
      reveal(hash);
    }
  }

  /* Print everything: the collapsed event tables open for the printer and close again after. */
  function setUpPrint() {
    window.addEventListener('beforeprint', function () {
      all(document, 'details:not([open])').forEach(function (d) {
        d.open = true;
        d.setAttribute('data-print-opened', '');
      });
    });
    window.addEventListener('afterprint', function () {
      all(document, 'details[data-print-opened]').forEach(function (d) {
        d.open = false;
        d.removeAttribute('data-print-opened');
      });
    });
  }

  try {
    setUpFilters();
    setUpSwimlanes();
    setUpPrint();
    window.addEventListener('hashchange', followHash);
    followHash();
  } catch (e) {
    record(e && e.stack ? e.stack : e);
  }
  body.setAttribute('data-ready', '1');
})();
