/**
 * The HTML report's script: reads the reports from the page's JSON data element and builds the page with
 * createElement / textContent only (every string in a report may come from a hostile image). It runs in the
 * browser, so it is plain JavaScript kept as a string: `html.ts` inlines it and allows it in the CSP by hash.
 * It must not contain a backtick, `${`, `</script` or `<!--` (html.ts checks the last two).
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info', 'unknown'];
  var VULN_SEVERITIES = ['critical', 'high', 'moderate', 'low', 'unknown'];
  var MALICIOUS = ['cryptominer', 'hacking-tool', 'backdoor', 'windows-malware', 'malware', 'malicious-package'];

  // ---- text ---------------------------------------------------------------------------------------------------
  // Control, bidi and invisible characters are shown as escapes so that a name cannot hide or reorder what is
  // displayed around it.
  var HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
  var HIDDEN_LINE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
  function hex(n, width) { var s = n.toString(16); while (s.length < width) s = '0' + s; return s; }
  function escapeChar(c) {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    var code = c.charCodeAt(0);
    return code < 0x100 ? '\\x' + hex(code, 2) : '\\u' + hex(code, 4);
  }
  function str(v) {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  }
  function visible(v) { return str(v).replace(HIDDEN_LINE, escapeChar); }
  function visibleMultiline(v) { return str(v).replace(HIDDEN, escapeChar); }

  function isObj(v) { return typeof v === 'object' && v !== null && !Array.isArray(v); }
  function arr(v) { return Array.isArray(v) ? v : []; }
  function objs(v) { return arr(v).filter(isObj); }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }

  function bytes(v) {
    var n = num(v);
    if (n === null) return '';
    var units = ['B', 'kB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
  }
  function ms(v) {
    var n = num(v);
    if (n === null) return '';
    return n < 1000 ? Math.round(n) + ' ms' : (n / 1000).toFixed(n < 10000 ? 2 : 1) + ' s';
  }
  function octal(v) { var n = num(v); return n === null ? '' : '0' + (n & 4095).toString(8); }
  function sevOf(v, list) { return list.indexOf(v) >= 0 ? v : 'unknown'; }
  function sevRank(v) { var i = SEVERITIES.indexOf(v); return i < 0 ? SEVERITIES.length : i; }
  function slash(p) { var s = str(p); return s === '' || s.charAt(0) === '/' ? s : '/' + s; }

  // ---- DOM ----------------------------------------------------------------------------------------------------
  // Attribute names are always literals of this script; values set from data are only ever plain-text attributes.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs) {
    var el = document.createElementNS(SVGNS, tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function setAttrs(el, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'class') el.setAttribute('class', v);
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    });
  }
  function add(el, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(el, x); }); return; }
    if (c instanceof Node) { el.appendChild(c); return; }
    el.appendChild(document.createTextNode(visible(c)));
  }
  function pre(text, attrs) { var el = h('pre', attrs); el.textContent = visibleMultiline(text); return el; }
  /** Network bytes as the sinkhole wrote them (printable, with escapes): a line break after each escaped newline. */
  function bytesPre(text, attrs) {
    var el = h('pre', attrs);
    el.textContent = visibleMultiline(str(text).replace(/\\\\|\\n/g, function (m) { return m === '\\n' ? '\\n\n' : m; }));
    return el;
  }
  function code(text) { return h('code', null, text); }
  function sevBadge(sev) { return h('span', { class: 'sev sev-' + sev }, sev); }
  function empty(text) { return h('p', { class: 'empty' }, text); }
  function facts(pairs) {
    var dl = h('dl', { class: 'facts' });
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === '') return;
      dl.appendChild(h('dt', null, p[0]));
      dl.appendChild(h('dd', null, p[1]));
    });
    return dl;
  }

  /** A value of free-form evidence: objects as nested facts, arrays as lists, strings as text. */
  function valueNode(v, depth) {
    if (depth > 6) return code(str(v));
    if (Array.isArray(v)) {
      if (v.length === 0) return h('span', { class: 'muted' }, '(none)');
      if (v.every(function (x) { return !isObj(x) && !Array.isArray(x); })) {
        return h('span', { class: 'chips' }, v.map(function (x) { return h('span', { class: 'chip mono' }, str(x)); }));
      }
      return h('ol', null, v.map(function (x) { return h('li', null, valueNode(x, depth + 1)); }));
    }
    if (isObj(v)) {
      var keys = Object.keys(v);
      if (keys.length === 0) return h('span', { class: 'muted' }, '{}');
      return facts(keys.map(function (k) { return [k, valueNode(v[k], depth + 1)]; }));
    }
    if (typeof v === 'string' && (v.indexOf('\n') >= 0 || v.length > 160)) return pre(v);
    return code(str(v));
  }

  /**
   * A table with sortable columns and a row filter. columns: { label, value(row) for sorting, cell(row) → node or
   * text, num }. Returns { el, rows: [{ row, tr }], filter(fn) }.
   */
  function dataTable(columns, rows, opts) {
    opts = opts || {};
    var table = h('table', { class: 'data', 'data-table': opts.name || null });
    var headRow = h('tr');
    var tbody = h('tbody');
    var entries = rows.map(function (row, i) {
      var tr = h('tr', opts.rowAttrs ? opts.rowAttrs(row) : null);
      columns.forEach(function (c) { tr.appendChild(h('td', c.num || c.nowrap ? { class: (c.num ? 'num' : '') + (c.nowrap ? ' nowrap' : '') } : null, c.cell(row))); });
      return { row: row, tr: tr, order: i };
    });
    var sortState = { col: -1, dir: 1 };
    var ths = columns.map(function (c, ci) {
      var th = h('th', { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': 'none' },
        h('button', { type: 'button', onclick: function () { sortBy(ci); } }, c.label));
      headRow.appendChild(th);
      return th;
    });
    function cmp(a, b) {
      if (a === b) return 0;
      if (a === null || a === undefined || a === '') return 1;
      if (b === null || b === undefined || b === '') return -1;
      if (typeof a === 'number' && typeof b === 'number') return a - b;
      return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
    }
    function sortBy(ci) {
      var dir = sortState.col === ci ? -sortState.dir : 1;
      sortState = { col: ci, dir: dir };
      var value = columns[ci].value;
      var sorted = entries.slice().sort(function (x, y) {
        var va = value(x.row), vb = value(y.row);
        var empties = (va === null || va === undefined || va === '') - (vb === null || vb === undefined || vb === '');
        if (empties !== 0) return empties;
        return dir * cmp(va, vb) || x.order - y.order;
      });
      sorted.forEach(function (e) { tbody.appendChild(e.tr); });
      ths.forEach(function (th, i) { th.setAttribute('aria-sort', i === ci ? (dir === 1 ? 'ascending' : 'descending') : 'none'); });
    }
    table.appendChild(h('thead', null, headRow));
    entries.forEach(function (e) { tbody.appendChild(e.tr); });
    table.appendChild(tbody);
    if (opts.sortBy !== undefined) sortBy(opts.sortBy);
    return {
      el: rows.length > 12 ? h('div', { class: 'scroll' }, table) : table,
      entries: entries,
      filter: function (keep) {
        var shown = 0;
        entries.forEach(function (e) { var k = keep(e.row); e.tr.hidden = !k; if (k) shown++; });
        return shown;
      },
    };
  }

  function card(id, title, count) {
    var heading = h('h3', null, title, count === undefined ? null : ' (' + count + ')');
    return h('section', { class: 'card', id: id, 'data-section': id.replace(/^r\d+-/, '') }, heading);
  }

  // ---- sections -----------------------------------------------------------------------------------------------
  function verdictBanner(report, id) {
    var v = isObj(report.verdict) ? report.verdict : {};
    var malicious = v.malicious === true;
    var el = h('section', { class: 'card verdict' + (malicious ? ' malicious' : ''), id: id, 'data-section': 'verdict' });
    el.appendChild(h('div', { class: 'verdict-label', 'data-verdict': malicious ? 'malicious' : 'not-malicious' },
      malicious ? 'MALICIOUS' : 'No malicious behaviour or content found'));
    var cats = arr(v.categories);
    if (cats.length > 0) {
      el.appendChild(h('div', { class: 'chips categories' }, cats.map(function (c) {
        return h('span', { class: 'chip' + (MALICIOUS.indexOf(c) >= 0 ? ' bad' : '') }, c);
      })));
    }
    if (v.summary) el.appendChild(h('p', { class: 'summary' }, v.summary));
    var counts = isObj(v.vulnerabilities) ? v.vulnerabilities : {};
    el.appendChild(h('div', { class: 'counts vuln-counts' }, h('span', { class: 'muted' }, 'Vulnerabilities:'),
      VULN_SEVERITIES.map(function (sev) {
        return h('span', { 'data-severity': sev }, sevBadge(sev), ' ', h('span', { class: 'n' }, str(num(counts[sev]) || 0)));
      })));
    var evidence = objs(v.evidence);
    if (evidence.length > 0) {
      el.appendChild(h('h4', null, 'Strongest evidence'));
      el.appendChild(h('ol', { class: 'evidence' }, evidence.map(function (e) {
        return h('li', null, sevBadge(sevOf(e.severity, SEVERITIES)), ' ', h('strong', null, e.title), ' ',
          h('span', { class: 'muted' }, '(' + str(e.category) + ', ' + str(e.source) + ', rule ' + str(e.rule) + (e.path ? ', ' + slash(e.path) : '') + ')'));
      })));
    }
    return el;
  }

  function imageFacts(report, id) {
    var img = isObj(report.image) ? report.image : {};
    var cfg = isObj(img.config) ? img.config : {};
    var os = isObj(img.os) ? img.os : null;
    var files = isObj(img.files) ? img.files : null;
    var layers = objs(img.layers);
    var size = layers.reduce(function (t, l) { return t + (num(l.size) || 0); }, 0);
    var el = card(id, 'Image');
    var labels = isObj(cfg.labels) ? Object.keys(cfg.labels) : [];
    el.appendChild(facts([
      ['Reference', code(img.reference)],
      ['Digest', code(img.digest)],
      ['Image ID', img.configDigest ? code(img.configDigest) : null],
      ['Platform', img.platform],
      ['OS', os ? (os.prettyName || [os.id, os.versionId].filter(Boolean).join(' ')) : 'unknown'],
      ['Created', cfg.created],
      ['Layers', layers.length + ' (' + bytes(size) + ')'],
      ['Files', files ? str(files.count) + ' files, ' + bytes(files.bytes) + (num(files.removed) ? ', ' + files.removed + ' removed by later layers' : '') : null],
      ['Packages', String(objs(report.packages).length)],
      ['User', cfg.user === '' ? 'root (not set)' : cfg.user],
      ['Entrypoint', arr(cfg.entrypoint).length ? argvNode(cfg.entrypoint) : null],
      ['Command', arr(cfg.cmd).length ? argvNode(cfg.cmd) : null],
      ['Working dir', cfg.workingDir],
      ['Exposed ports', arr(cfg.exposedPorts).join(', ')],
      ['Environment', arr(cfg.env).length ? h('div', null, arr(cfg.env).map(function (e) { return h('div', null, code(e)); })) : null],
      ['Labels', labels.length ? facts(labels.map(function (k) { return [k, code(cfg.labels[k])]; })) : null],
      ['Scanned', report.scannedAt],
      ['Tool', report.tool ? 'detonate ' + str(report.tool.version) : null],
      ['Advisory DB', advisoryDbText(report)],
    ]));
    return el;
  }
  function advisoryDbText(report) {
    var db = isObj(report.tool) ? report.tool.advisoryDb : null;
    if (!isObj(db)) return 'vulnerabilities not checked';
    return 'built ' + str(db.builtAt) + ' from ' + arr(db.sources).join(', ') + (db.stale ? ' (stale: older than 7 days)' : '');
  }
  function argvNode(argv) {
    return h('span', { class: 'proc argv' }, arr(argv).map(function (a) { return h('span', { class: 'arg mono' }, str(a)); }));
  }

  function findingDetails(f) {
    var sev = sevOf(f.severity, SEVERITIES);
    var where = f.path ? slash(f.path) : '';
    var layerText = num(f.layer) !== null ? 'layer ' + f.layer + (num(f.removedInLayer) !== null ? ', removed in layer ' + f.removedInLayer : '') : '';
    var d = h('details', { class: 'finding', 'data-severity': sev, 'data-rule': str(f.rule) },
      h('summary', null, sevBadge(sev), h('span', { class: 'chip' + (MALICIOUS.indexOf(f.category) >= 0 ? ' bad' : '') }, f.category),
        h('span', { class: 'title' }, f.title), where ? code(where) : null,
        h('span', { class: 'muted' }, [str(f.source), layerText].filter(Boolean).join(', '))));
    var evidence = f.evidence;
    d.appendChild(h('div', { class: 'body' }, facts([
      ['Rule', code(f.rule)],
      ['Source', f.source === 'dynamic' ? 'dynamic (seen when the image ran)' : f.source],
      ['Path', where ? code(where) : null],
      ['Layer', layerText],
      ['SHA-256', f.sha256 ? code(f.sha256) : null],
      ['ATT&CK', arr(f.attack).length ? h('span', { class: 'chips' }, arr(f.attack).map(function (a) { return h('span', { class: 'chip mono' }, a); })) : null],
      ['Evidence', evidence !== undefined ? h('div', { class: 'evidence' }, valueNode(evidence, 0)) : null],
    ])));
    return d;
  }

  function findingsSection(report, id) {
    var findings = objs(report.findings).slice().sort(function (a, b) {
      return sevRank(sevOf(a.severity, SEVERITIES)) - sevRank(sevOf(b.severity, SEVERITIES)) || str(a.category).localeCompare(str(b.category));
    });
    var el = card(id, 'Findings', findings.length);
    if (findings.length === 0) { el.appendChild(empty('No findings.')); return el; }
    var toggle = h('button', { type: 'button', class: 'expand-all' }, 'Expand all');
    toggle.addEventListener('click', function () {
      var open = toggle.textContent === 'Expand all';
      el.querySelectorAll('details.finding').forEach(function (d) { d.open = open; });
      toggle.textContent = open ? 'Collapse all' : 'Expand all';
    });
    el.appendChild(h('div', { class: 'filters' }, toggle));
    findings.forEach(function (f) { el.appendChild(findingDetails(f)); });
    return el;
  }

  function vulnerabilitiesSection(report, id) {
    var vulns = objs(report.vulnerabilities);
    var el = card(id, 'Vulnerabilities', vulns.length);
    if (!isObj(isObj(report.tool) ? report.tool.advisoryDb : null) && vulns.length === 0) {
      el.appendChild(empty('Not checked (no advisory database).'));
      return el;
    }
    el.appendChild(h('p', { class: 'muted' }, 'Advisory database: ' + advisoryDbText(report)));
    if (vulns.length === 0) { el.appendChild(empty('No known vulnerabilities.')); return el; }
    var sevs = vulns.map(function (v) { return sevOf(v.severity, VULN_SEVERITIES); });
    var table = dataTable([
      { label: 'ID', value: function (v) { return str(v.id); }, cell: function (v) {
        return [code(v.id), arr(v.aliases).length ? h('div', { class: 'muted' }, arr(v.aliases).join(', ')) : null]; } },
      { label: 'Severity', nowrap: true, value: function (v) { return sevRank(sevOf(v.severity, VULN_SEVERITIES)); }, cell: function (v) { return sevBadge(sevOf(v.severity, VULN_SEVERITIES)); } },
      { label: 'CVSS', num: true, value: function (v) { return isObj(v.cvss) ? num(v.cvss.score) : null; }, cell: function (v) {
        return isObj(v.cvss) && num(v.cvss.score) !== null ? h('span', { title: str(v.cvss.vector) }, v.cvss.score.toFixed(1)) : ''; } },
      { label: 'Package', value: function (v) { return str(v.package); }, cell: function (v) { return v.package; } },
      { label: 'Installed', value: function (v) { return str(v.installedVersion); }, cell: function (v) { return code(v.installedVersion); } },
      { label: 'Fixed in', value: function (v) { return v.fixedVersion ? str(v.fixedVersion) : ''; }, cell: function (v) {
        return v.fixedVersion ? code(v.fixedVersion) : h('span', { class: 'muted' }, v.wontFix ? 'won\'t fix' : 'no fix yet'); } },
      { label: 'Layer', num: true, value: function (v) { return num(v.layer); }, cell: function (v) { return str(num(v.layer)); } },
      { label: 'Source', value: function (v) { return str(v.source); }, cell: function (v) { return v.source; } },
      { label: 'Title', value: function (v) { return str(v.title); }, cell: function (v) { return v.title; } },
    ], vulns, { name: 'vulnerabilities', sortBy: 1, rowAttrs: function (v) { return { 'data-severity': sevOf(v.severity, VULN_SEVERITIES) }; } });
    var checks = Object.create(null);
    var shown = h('span', { class: 'shown' });
    function apply() {
      var n = table.filter(function (v) { return checks[sevOf(v.severity, VULN_SEVERITIES)].checked; });
      shown.textContent = n + ' of ' + vulns.length + ' shown';
    }
    var filters = h('div', { class: 'filters severity-filter', role: 'group', 'aria-label': 'Filter by severity' }, h('span', { class: 'muted' }, 'Severity:'));
    VULN_SEVERITIES.forEach(function (sev) {
      var count = sevs.filter(function (x) { return x === sev; }).length;
      var box = h('input', { type: 'checkbox', name: 'severity', value: sev, checked: true, disabled: count === 0 });
      box.addEventListener('change', apply);
      checks[sev] = box;
      filters.appendChild(h('label', null, box, sevBadge(sev), ' ' + count));
    });
    filters.appendChild(shown);
    el.appendChild(filters);
    el.appendChild(table.el);
    apply();
    return el;
  }

  function packagesSection(report, id) {
    var pkgs = objs(report.packages);
    var el = card(id, 'Packages', pkgs.length);
    if (pkgs.length === 0) { el.appendChild(empty('No packages found.')); return el; }
    var table = dataTable([
      { label: 'Name', value: function (p) { return str(p.name); }, cell: function (p) { return p.name; } },
      { label: 'Version', value: function (p) { return str(p.version); }, cell: function (p) { return code(p.version); } },
      { label: 'Type', value: function (p) { return str(p.type); }, cell: function (p) { return p.type; } },
      { label: 'Source', value: function (p) { return str(p.sourceName); }, cell: function (p) {
        return p.sourceName ? str(p.sourceName) + (p.sourceVersion && p.sourceVersion !== p.version ? ' ' + str(p.sourceVersion) : '') : ''; } },
      { label: 'Layer', num: true, value: function (p) { return num(p.layer); }, cell: function (p) { return str(num(p.layer)); } },
      { label: 'Licenses', value: function (p) { return arr(p.licenses).join(', '); }, cell: function (p) { return arr(p.licenses).join(', '); } },
      { label: 'Package URL', value: function (p) { return str(p.purl); }, cell: function (p) { return code(p.purl); } },
    ], pkgs, { name: 'packages' });
    var search = h('input', { type: 'search', placeholder: 'Filter by name, version, license or purl', 'aria-label': 'Filter packages' });
    var types = [];
    pkgs.forEach(function (p) { var t = str(p.type); if (types.indexOf(t) < 0) types.push(t); });
    var select = h('select', { 'aria-label': 'Package type' }, h('option', { value: '' }, 'all types'),
      types.sort().map(function (t) { return h('option', { value: t }, t); }));
    var shown = h('span', { class: 'shown' });
    function apply() {
      var q = search.value.trim().toLowerCase();
      var t = select.value;
      var n = table.filter(function (p) {
        if (t && str(p.type) !== t) return false;
        if (!q) return true;
        return [p.name, p.version, p.purl, p.sourceName, arr(p.licenses).join(' ')].some(function (x) { return str(x).toLowerCase().indexOf(q) >= 0; });
      });
      shown.textContent = n + ' of ' + pkgs.length + ' shown';
    }
    search.addEventListener('input', apply);
    select.addEventListener('change', apply);
    el.appendChild(h('div', { class: 'filters' }, search, select, shown));
    el.appendChild(table.el);
    apply();
    return el;
  }

  function layersSection(report, id) {
    var img = isObj(report.image) ? report.image : {};
    var layers = objs(img.layers);
    var el = card(id, 'Layers', layers.length);
    if (layers.length === 0) { el.appendChild(empty('No layers.')); return el; }
    var pkgs = objs(report.packages);
    var findings = objs(report.findings);
    var vulns = objs(report.vulnerabilities);
    layers.forEach(function (l, i) {
      var index = num(l.index) !== null ? l.index : i;
      var introduced = pkgs.filter(function (p) { return p.layer === index; });
      var found = findings.filter(function (f) { return f.layer === index; });
      var removed = findings.filter(function (f) { return f.removedInLayer === index; });
      var lv = vulns.filter(function (v) { return v.layer === index; });
      var box = h('div', { class: 'layer', 'data-layer': String(index) },
        h('div', { class: 'layer-head' }, h('span', { class: 'idx' }, 'Layer ' + index), h('span', null, bytes(l.size)),
          num(l.entries) !== null ? h('span', { class: 'muted' }, l.entries + ' entries') : null,
          num(l.whiteouts) ? h('span', { class: 'muted' }, l.whiteouts + ' deletions') : null,
          h('span', { class: 'muted' }, introduced.length + ' packages, ' + found.length + ' findings, ' + lv.length + ' vulnerabilities')));
      box.appendChild(l.createdBy !== undefined && l.createdBy !== '' ? pre(l.createdBy, { class: 'created-by' }) : h('p', { class: 'empty' }, 'created by: not recorded'));
      box.appendChild(facts([['Diff ID', code(l.diffId)], ['Digest', l.digest && l.digest !== l.diffId ? code(l.digest) : null], ['Media type', l.mediaType]]));
      if (found.length > 0 || removed.length > 0) {
        box.appendChild(h('h4', null, 'Findings'));
        box.appendChild(h('ul', null, found.map(function (f) {
          return h('li', null, sevBadge(sevOf(f.severity, SEVERITIES)), ' ', f.title, f.path ? ' ' : null, f.path ? code(slash(f.path)) : null,
            num(f.removedInLayer) !== null ? h('span', { class: 'muted' }, ' (removed in layer ' + f.removedInLayer + ')') : null);
        }), removed.map(function (f) {
          return h('li', null, h('span', { class: 'muted' }, 'removes: '), f.title, f.path ? ' ' : null, f.path ? code(slash(f.path)) : null,
            h('span', { class: 'muted' }, ' (added in layer ' + str(f.layer) + ')'));
        })));
      }
      if (introduced.length > 0) {
        var list = h('details', null, h('summary', null, introduced.length + ' packages introduced'),
          h('div', { class: 'chips' }, introduced.map(function (p) { return h('span', { class: 'chip' }, str(p.name) + ' ' + str(p.version) + ' (' + str(p.type) + ')'); })));
        box.appendChild(list);
      }
      el.appendChild(box);
    });
    return el;
  }

  function noticesSection(report, id) {
    var notices = objs(report.notices);
    var el = card(id, 'Notices', notices.length);
    if (notices.length === 0) { el.appendChild(empty('None: the scan read everything it looked at.')); return el; }
    el.appendChild(dataTable([
      { label: 'Level', value: function (n) { return str(n.level); }, cell: function (n) { return h('span', { class: n.level === 'error' ? 'error' : 'warn' }, n.level); } },
      { label: 'Message', value: function (n) { return str(n.message); }, cell: function (n) { return n.message; } },
      { label: 'Path', value: function (n) { return str(n.path); }, cell: function (n) { return n.path ? code(slash(n.path)) : ''; } },
      { label: 'Layer', num: true, value: function (n) { return num(n.layer); }, cell: function (n) { return str(num(n.layer)); } },
    ], notices, { name: 'notices' }).el);
    return el;
  }

  function suppressedSection(report, id) {
    var items = objs(report.suppressed);
    var el = card(id, 'Suppressed by an ignore file', items.length);
    if (items.length === 0) { el.appendChild(empty('Nothing suppressed.')); return el; }
    el.appendChild(dataTable([
      { label: 'What', value: function (x) { return x.finding ? 'finding' : 'vulnerability'; }, cell: function (x) { return x.finding ? 'finding' : 'vulnerability'; } },
      { label: 'Item', value: function (x) { return itemText(x); }, cell: function (x) {
        var f = isObj(x.finding) ? x.finding : null;
        if (f) return [sevBadge(sevOf(f.severity, SEVERITIES)), ' ', f.title, f.path ? ' ' : null, f.path ? code(slash(f.path)) : null, h('div', { class: 'muted' }, 'rule ' + str(f.rule))];
        var v = isObj(x.vulnerability) ? x.vulnerability : {};
        return [sevBadge(sevOf(v.severity, VULN_SEVERITIES)), ' ', code(v.id), ' in ', str(v.package), ' ', code(v.installedVersion)];
      } },
      { label: 'Reason', value: function (x) { return str(x.reason); }, cell: function (x) { return x.reason; } },
      { label: 'Expires', value: function (x) { return str(x.expires); }, cell: function (x) { return x.expires; } },
      { label: 'Ignored by', value: function (x) { return str(x.ignoredBy); }, cell: function (x) { return code(x.ignoredBy); } },
    ], items, { name: 'suppressed' }).el);
    return el;
  }
  function itemText(x) {
    if (isObj(x.finding)) return str(x.finding.title);
    return isObj(x.vulnerability) ? str(x.vulnerability.id) : '';
  }

  // ---- detonation ---------------------------------------------------------------------------------------------
  function detonationSection(report, id) {
    var b = report.behavior;
    var el = card(id, 'Detonation');
    if (b === null || b === undefined) { el.appendChild(empty('Not detonated (static analysis only).')); return el; }
    if (!isObj(b)) { el.appendChild(empty('No usable detonation record.')); return el; }
    if (typeof b.error === 'string' && b.processes === undefined) {
      el.appendChild(h('p', { class: 'error' }, 'The image could not be run: ', b.error));
      return el;
    }
    var procs = objs(b.processes);
    var limits = isObj(b.limitsHit) ? b.limitsHit : {};
    var limitText = [];
    if (num(limits.oomKills)) limitText.push(limits.oomKills + ' out-of-memory kills');
    if (num(limits.pidsLimitHits)) limitText.push(limits.pidsLimitHits + ' refused forks (process limit)');
    if (limits.diskFull) limitText.push('disk full');
    var timings = isObj(b.timings) ? b.timings : {};
    el.appendChild(facts([
      ['Sandbox', b.sandbox],
      ['Ran for', ms(b.durationMs) + (b.timedOut ? ' (stopped at the deadline)' : '')],
      ['Exit code', b.exitCode === null ? (b.timedOut ? 'none (still running)' : 'none') : str(b.exitCode)],
      ['Ended by', b.killedBy ? (Object.prototype.hasOwnProperty.call(KILLED_BY, b.killedBy) ? KILLED_BY[b.killedBy] : str(b.killedBy)) : null],
      ['Limits hit', h('span', { class: limitText.length ? 'warn' : 'muted', 'data-limits': '' }, limitText.length ? limitText.join(', ') : 'none')],
      ['CPU', isObj(b.cpu) ? str(num(b.cpu.seconds) !== null ? b.cpu.seconds.toFixed(2) : '?') + ' s, peak ' + str(num(b.cpu.peakCores) !== null ? b.cpu.peakCores.toFixed(2) : '?') + ' cores' : null],
      ['Memory peak', isObj(b.memory) ? bytes(b.memory.peakBytes) : null],
      ['Processes', procs.length + (isObj(b.pids) && num(b.pids.peak) !== null ? ' (peak ' + b.pids.peak + ' at once)' : '')],
      ['Timings', 'setup ' + ms(timings.setupMs) + (num(timings.firstExecMs) !== null ? ', first exec at ' + ms(timings.firstExecMs) : '') + ', teardown ' + ms(timings.teardownMs)],
    ]));

    el.appendChild(h('h4', null, 'CPU and memory'));
    el.appendChild(resourceCharts(objs(b.series)));

    el.appendChild(h('h4', null, 'Process tree (' + procs.length + ')'));
    el.appendChild(processTree(procs));

    el.appendChild(h('h4', null, 'Timeline'));
    el.appendChild(timeline(b, procs));

    var dns = objs(b.dns);
    el.appendChild(h('h4', null, 'DNS queries (' + dns.length + ')'));
    el.appendChild(dns.length === 0 ? empty('No DNS queries.') : dataTable([
      { label: 'Name', value: function (d) { return str(d.name); }, cell: function (d) { return code(d.name); } },
      { label: 'Type', value: function (d) { return str(d.type); }, cell: function (d) { return d.type; } },
      { label: 'PID', num: true, value: function (d) { return num(d.pid); }, cell: function (d) { return str(num(d.pid)); } },
    ], dns, { name: 'dns' }).el);

    var conns = objs(b.connections);
    el.appendChild(h('h4', null, 'Connections (' + conns.length + ')'));
    el.appendChild(conns.length === 0 ? empty('No connections.') : dataTable([
      { label: 'Proto', value: function (c) { return str(c.proto); }, cell: function (c) { return c.proto; } },
      { label: 'Destination', value: function (c) { return str(c.dst) + ':' + str(c.port); }, cell: function (c) { return code(str(c.dst) + ':' + str(c.port)); } },
      { label: 'Host', value: function (c) { return str(c.host); }, cell: function (c) { return c.host ? code(c.host) : ''; } },
      { label: 'Protocol', value: function (c) { return str(c.protocol); }, cell: function (c) { return c.protocol; } },
      { label: 'PID', num: true, value: function (c) { return num(c.pid); }, cell: function (c) { return str(num(c.pid)); } },
      { label: 'First bytes', value: function (c) { return str(c.firstBytes); }, cell: function (c) {
        return [c.firstBytes ? bytesPre(c.firstBytes, { class: 'first-bytes' }) : h('span', { class: 'muted' }, '(nothing sent)'),
          isObj(c.details) && Object.keys(c.details).length ? h('details', null, h('summary', null, 'details'), h('div', { class: 'evidence' }, valueNode(c.details, 0))) : null];
      } },
    ], conns, { name: 'connections' }).el);

    var files = objs(b.files);
    el.appendChild(h('h4', null, 'File operations (' + files.length + ')'));
    el.appendChild(files.length === 0 ? empty('No file changes seen.') : dataTable([
      { label: 'Op', value: function (f) { return str(f.op); }, cell: function (f) { return f.op; } },
      { label: 'Path', value: function (f) { return str(f.path); }, cell: function (f) {
        return [code(f.path), f.to !== undefined ? [' \u2192 ', code(f.to)] : null]; } },
      { label: 'Mode', value: function (f) { return num(f.mode); }, cell: function (f) { return f.mode !== undefined ? code(octal(f.mode)) : ''; } },
      { label: 'PID', num: true, value: function (f) { return num(f.pid); }, cell: function (f) { return str(num(f.pid)); } },
      { label: 'Result', value: function (f) { return str(f.error); }, cell: function (f) { return f.error ? h('span', { class: 'warn' }, 'failed: ' + str(f.error)) : 'done'; } },
    ], files, { name: 'files' }).el);

    var dropped = objs(b.dropped);
    el.appendChild(h('h4', null, 'Dropped files (' + dropped.length + ')'));
    el.appendChild(dropped.length === 0 ? empty('No files left behind.') : dataTable([
      { label: 'Path', value: function (f) { return str(f.path); }, cell: function (f) { return code(f.path); } },
      { label: 'Size', num: true, value: function (f) { return num(f.size); }, cell: function (f) { return bytes(f.size); } },
      { label: 'Mode', value: function (f) { return num(f.mode); }, cell: function (f) { return code(octal(f.mode)); } },
      { label: 'SHA-256', value: function (f) { return str(f.sha256); }, cell: function (f) { return code(f.sha256); } },
    ], dropped, { name: 'dropped' }).el);

    var kills = objs(b.kills);
    if (kills.length > 0) {
      el.appendChild(h('h4', null, 'Signals sent (' + kills.length + ')'));
      el.appendChild(dataTable([
        { label: 'PID', num: true, value: function (k) { return num(k.pid); }, cell: function (k) { return str(num(k.pid)); } },
        { label: 'Signal', value: function (k) { return str(k.signal); }, cell: function (k) { return k.signal; } },
        { label: 'Target', num: true, value: function (k) { return num(k.target); }, cell: function (k) { return str(num(k.target)); } },
        { label: 'Target program', value: function (k) { return str(k.targetExe); }, cell: function (k) { return k.targetExe ? code(k.targetExe) : ''; } },
      ], kills, { name: 'kills' }).el);
    }

    var out = isObj(b.output) ? b.output : null;
    if (out && (out.stdout || out.stderr)) {
      el.appendChild(h('h4', null, 'Output' + (out.truncated ? ' (start only)' : '')));
      if (out.stdout) el.appendChild(h('div', null, h('div', { class: 'muted' }, 'stdout'), pre(out.stdout, { class: 'stdout' })));
      if (out.stderr) el.appendChild(h('div', null, h('div', { class: 'muted' }, 'stderr'), pre(out.stderr, { class: 'stderr' })));
    }
    return el;
  }

  var KILLED_BY = { deadline: 'the deadline', memory: 'the memory limit', pids: 'the process limit' };

  function processTree(procs) {
    if (procs.length === 0) return empty('No processes were seen.');
    var byPid = Object.create(null);
    procs.forEach(function (p) { if (num(p.pid) !== null && !byPid[p.pid]) byPid[p.pid] = p; });
    var children = Object.create(null);
    var roots = [];
    procs.forEach(function (p) {
      var parent = byPid[p.ppid];
      if (parent && parent !== p && p.ppid !== p.pid) (children[p.ppid] = children[p.ppid] || []).push(p);
      else roots.push(p);
    });
    var seen = [];
    function node(p) {
      var li = h('li', { 'data-pid': str(num(p.pid)) }, h('span', { class: 'proc' },
        h('span', { class: 'pid' }, '[' + str(p.pid) + '] +' + ms(p.startMs)),
        h('span', { class: 'exe mono' }, p.exe),
        argvNode(p.argv)));
      if (seen.indexOf(p) >= 0) return li;
      seen.push(p);
      var kids = children[p.pid] || [];
      if (kids.length > 0) li.appendChild(h('ul', null, kids.map(node)));
      return li;
    }
    // a record whose parent chain loops has no root; show it at the top level rather than lose it
    var tree = h('ul', { class: 'tree', 'data-tree': 'processes' }, roots.map(node));
    procs.forEach(function (p) { if (seen.indexOf(p) < 0) tree.appendChild(node(p)); });
    return tree;
  }

  /** Every event in time order. Only processes carry a time; the other events are placed at their process's start. */
  function timeline(b, procs) {
    var startOf = Object.create(null);
    procs.forEach(function (p) { if (num(p.pid) !== null && startOf[p.pid] === undefined) startOf[p.pid] = num(p.startMs); });
    var events = [];
    procs.forEach(function (p) { events.push({ t: num(p.startMs), exact: true, pid: p.pid, kind: 'exec', text: [str(p.exe)].concat(arr(p.argv).slice(1).map(str)).join(' ') }); });
    function at(pid) { var t = startOf[pid]; return t === undefined ? null : t; }
    // events carry their own time (atMs) when the run recorded it; else they happened at or after their process's start
    function when(x) { var t = num(x.atMs); return t !== null ? { t: t, exact: true } : { t: at(x.pid), exact: false }; }
    objs(b.dns).forEach(function (d) { var w = when(d); events.push({ t: w.t, exact: w.exact, pid: d.pid, kind: 'dns', text: str(d.type) + ' ' + str(d.name) }); });
    objs(b.connections).forEach(function (c) {
      var w = when(c);
      events.push({ t: w.t, exact: w.exact, pid: c.pid, kind: 'connect', text: str(c.proto) + ' ' + str(c.dst) + ':' + str(c.port) + (c.host ? ' (' + str(c.host) + ')' : '') + ' ' + str(c.protocol) });
    });
    objs(b.files).forEach(function (f) {
      var w = when(f);
      events.push({ t: w.t, exact: w.exact, pid: f.pid, kind: 'file', text: str(f.op) + ' ' + str(f.path) + (f.to !== undefined ? ' \u2192 ' + str(f.to) : '') + (f.error ? ' (failed: ' + str(f.error) + ')' : '') });
    });
    if (events.length === 0) return empty('Nothing happened.');
    events.forEach(function (e, i) { e.i = i; });
    events.sort(function (a, b2) {
      if (a.t === null || b2.t === null) return (a.t === null) - (b2.t === null) || a.i - b2.i;
      return a.t - b2.t || (a.kind === 'exec' ? 0 : 1) - (b2.kind === 'exec' ? 0 : 1) || a.i - b2.i;
    });
    var wrap = h('div', { class: 'timeline' });
    wrap.appendChild(timelineChart(b, procs, events));
    var list = dataTable([
      { label: 'Time', num: true, nowrap: true, value: function (e) { return e.t; }, cell: function (e) {
        return e.t === null ? h('span', { class: 'muted' }, '?') : (e.exact ? '' : '\u2265 ') + ms(e.t); } },
      { label: 'PID', num: true, value: function (e) { return num(e.pid); }, cell: function (e) { return str(num(e.pid)); } },
      { label: 'Event', nowrap: true, value: function (e) { return e.kind; }, cell: function (e) { return h('span', null, h('span', { class: 'swatch ev-' + e.kind }), e.kind); } },
      { label: 'What', value: function (e) { return e.text; }, cell: function (e) { return code(e.text); } },
    ], events, { name: 'timeline' });
    wrap.appendChild(list.el);
    return wrap;
  }

  var MAX_LANES = 40;
  function timelineChart(b, procs, events) {
    var end = num(b.durationMs) || 0;
    events.forEach(function (e) { if (e.t !== null && e.t > end) end = e.t; });
    if (end <= 0) end = 1;
    var lanes = procs.slice(0, MAX_LANES);
    var W = 900, left = 70, right = 10, laneH = 16, top = 8;
    var H = top + Math.max(lanes.length, 1) * laneH + 26;
    var x = function (t) { return left + (W - left - right) * Math.max(0, Math.min(1, t / end)); };
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Timeline of processes and their events' });
    lanes.forEach(function (p, i) {
      var y = top + i * laneH + laneH / 2;
      var t0 = num(p.startMs) || 0;
      svg.appendChild(s('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' }, 'pid ' + str(p.pid)));
      svg.appendChild(s('line', { class: 'lane', x1: left, x2: W - right, y1: y, y2: y }));
      svg.appendChild(s('line', { class: 'run', x1: x(t0), x2: W - right, y1: y, y2: y }, s('title', null, str(p.exe))));
      var mine = events.filter(function (e) { return e.pid === p.pid && e.t !== null; });
      var offsets = { exec: 0, dns: 3, connect: 6, file: 9 };
      mine.forEach(function (e) {
        svg.appendChild(s('circle', { class: 'ev-' + e.kind, cx: x(e.t) + (e.kind === 'exec' ? 0 : offsets[e.kind]), cy: y, r: 4 }, s('title', null, e.kind + ': ' + e.text)));
      });
    });
    var axisY = top + Math.max(lanes.length, 1) * laneH + 4;
    svg.appendChild(s('line', { class: 'axis', x1: left, x2: W - right, y1: axisY, y2: axisY }));
    for (var k = 0; k <= 4; k++) {
      var t = end * k / 4;
      svg.appendChild(s('text', { x: x(t), y: axisY + 14, 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle' }, ms(t)));
    }
    var legend = h('div', { class: 'legend' }, ['exec', 'dns', 'connect', 'file'].map(function (k2) { return h('span', null, h('span', { class: 'swatch ev-' + k2 }), k2); }),
      procs.length > MAX_LANES ? h('span', null, 'first ' + MAX_LANES + ' of ' + procs.length + ' processes drawn; the table lists all') : null,
      h('span', null, 'events other than exec are drawn at their process\'s start'));
    return h('div', null, svg, legend);
  }

  function resourceCharts(series) {
    var pts = series.filter(function (p) { return num(p.t) !== null; }).sort(function (a, b) { return a.t - b.t; });
    if (pts.length === 0) return empty('No resource samples were taken.');
    var cpu = [];
    for (var i = 0; i < pts.length; i++) {
      var prev = i === 0 ? { t: 0, cpuSeconds: 0 } : pts[i - 1];
      var dt = (pts[i].t - prev.t) / 1000;
      var dc = (num(pts[i].cpuSeconds) || 0) - (num(prev.cpuSeconds) || 0);
      cpu.push({ t: pts[i].t, v: dt > 0 ? Math.max(0, dc / dt) : 0 });
    }
    var mem = pts.map(function (p) { return { t: p.t, v: num(p.memoryBytes) || 0 }; });
    var pids = pts.map(function (p) { return { t: p.t, v: num(p.pids) || 0 }; });
    return h('div', { class: 'charts' },
      chart('CPU (cores)', 'cpu', cpu, function (v) { return v.toFixed(2); }),
      chart('Memory', 'mem', mem, bytes),
      chart('Processes', 'pids', pids, function (v) { return String(Math.round(v)); }));
  }

  function chart(title, cls, points, fmt) {
    var W = 420, H = 180, left = 64, right = 12, top = 12, bottom = 26;
    var tMax = points.reduce(function (m, p) { return Math.max(m, p.t); }, 0) || 1;
    var vMax = points.reduce(function (m, p) { return Math.max(m, p.v); }, 0);
    if (vMax <= 0) vMax = 1;
    var x = function (t) { return left + (W - left - right) * t / tMax; };
    var y = function (v) { return top + (H - top - bottom) * (1 - v / vMax); };
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title + ' over the run', 'data-chart': cls });
    svg.appendChild(s('line', { class: 'axis', x1: left, x2: left, y1: top, y2: H - bottom }));
    svg.appendChild(s('line', { class: 'axis', x1: left, x2: W - right, y1: H - bottom, y2: H - bottom }));
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(s('text', { x: left - 6, y: y(vMax * f) + 4, 'text-anchor': 'end' }, fmt(vMax * f)));
      svg.appendChild(s('line', { class: 'axis', x1: left, x2: W - right, y1: y(vMax * f), y2: y(vMax * f), 'stroke-dasharray': '2 4' }));
    });
    svg.appendChild(s('text', { x: left, y: H - 8 }, '0 s'));
    svg.appendChild(s('text', { x: W - right, y: H - 8, 'text-anchor': 'end' }, ms(tMax)));
    var d = points.map(function (p, i) { return (i === 0 ? 'M' : 'L') + x(p.t).toFixed(1) + ' ' + y(p.v).toFixed(1); }).join(' ');
    if (points.length === 1) d += ' L' + (x(points[0].t) + 2).toFixed(1) + ' ' + y(points[0].v).toFixed(1);
    svg.appendChild(s('path', { class: cls, d: d }));
    return h('figure', { class: 'chart' }, h('figcaption', { class: 'muted' }, title + ', peak ' + fmt(points.reduce(function (m, p) { return Math.max(m, p.v); }, 0))), svg);
  }

  // ---- page ---------------------------------------------------------------------------------------------------
  function renderReport(report, i) {
    var img = isObj(report.image) ? report.image : {};
    var p = 'r' + i + '-';
    var parts = [
      ['verdict', 'Verdict', verdictBanner], ['image', 'Image', imageFacts], ['findings', 'Findings', findingsSection],
      ['vulnerabilities', 'Vulnerabilities', vulnerabilitiesSection], ['detonation', 'Detonation', detonationSection],
      ['layers', 'Layers', layersSection], ['packages', 'Packages', packagesSection], ['notices', 'Notices', noticesSection],
      ['suppressed', 'Suppressed', suppressedSection],
    ];
    var section = h('section', { class: 'image', id: 'r' + i, 'data-image': String(i) },
      h('h2', null, img.reference || img.digest || 'image ' + (i + 1)),
      h('nav', { class: 'toc' }, parts.map(function (x) { return h('a', { href: '#' + p + x[0] }, x[1]); })));
    parts.forEach(function (x) {
      try {
        section.appendChild(x[2](report, p + x[0]));
      } catch (err) {
        section.appendChild(h('section', { class: 'card', id: p + x[0] }, h('h3', null, x[1]), h('p', { class: 'error' }, 'This part of the report could not be shown: ' + str(err && err.message))));
      }
    });
    return section;
  }

  function main() {
    var data = document.getElementById('detonate-data');
    var reports = [];
    try { reports = JSON.parse(data ? data.textContent : '[]'); } catch (e) { reports = []; }
    if (!Array.isArray(reports)) reports = [reports];
    reports = reports.filter(isObj);
    var root = document.getElementById('app');
    var tool = reports.length > 0 && isObj(reports[0].tool) ? reports[0].tool : {};
    var malicious = reports.filter(function (r) { return isObj(r.verdict) && r.verdict.malicious === true; }).length;
    root.appendChild(h('header', { class: 'top' }, h('h1', null, 'Detonate report'),
      h('span', { class: 'meta' }, reports.length + (reports.length === 1 ? ' image' : ' images') + (reports.length > 1 ? ', ' + malicious + ' malicious' : '')),
      tool.version ? h('span', { class: 'meta' }, 'detonate ' + str(tool.version)) : null));
    if (reports.length > 1) {
      root.appendChild(h('nav', { class: 'images' }, reports.map(function (r, i) {
        var img = isObj(r.image) ? r.image : {};
        var bad = isObj(r.verdict) && r.verdict.malicious === true;
        return h('a', { href: '#r' + i }, (bad ? '\u26a0 ' : '') + str(img.reference || 'image ' + (i + 1)));
      })));
    }
    var m = h('main');
    if (reports.length === 0) m.appendChild(empty('No images in this report.'));
    reports.forEach(function (r, i) { m.appendChild(renderReport(r, i)); });
    root.appendChild(m);
    root.appendChild(h('footer', null, 'Every name, path, argument and byte shown here comes from the scanned image and is shown as text. ' +
      'Invisible and control characters are shown as escapes (\\x1b, \\u202e).'));
    if (reports.length === 1 && isObj(reports[0].image)) document.title = 'Detonate: ' + visible(reports[0].image.reference);
    document.documentElement.setAttribute('data-ready', 'true');
  }
  main();
})();
`;
