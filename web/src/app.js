// The flowsift console page: four views over the JSON API of
// flowsift-console (docs/console.md), switched by the URL fragment.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './app.css';

const $ = (selector, root = document) => root.querySelector(selector);

// Fails with err.status 401 when a token is needed, so the page shows the login form.
async function api(path, params) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`/api/${path}${query ? '?' + query : ''}`, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    const err = new Error(body.error || `HTTP ${response.status}`);
    err.status = response.status;
    throw err;
  }
  return body;
}

function showStatus(text, isError) {
  const status = $('#status');
  status.textContent = text;
  status.classList.toggle('error', Boolean(isError));
}

function handleError(err) {
  if (err.status === 401) {
    $('#login').hidden = false;
    document.querySelectorAll('.page').forEach((p) => { p.hidden = true; });
    showStatus('access token required', true);
    return;
  }
  showStatus(err.message, true);
}

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

// Formats n with an SI prefix and three significant digits: 1234567 -> "1.23 M".
function si(n, unit = '') {
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i += 1;
  }
  let digits = 0;
  if (i > 0 && v < 10) digits = 2;
  else if (i > 0 && v < 100) digits = 1;
  return `${v.toFixed(digits)} ${SI[i]}${unit}`.trim();
}

function utc(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') : '';
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(table, rows, render) {
  const body = $('tbody', table);
  body.replaceChildren();
  rows.forEach((row, i) => body.appendChild(render(row, i)));
}

const PROTOCOLS = { 1: 'icmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 58: 'ipv6-icmp', 132: 'sctp' };
const protoName = (p) => PROTOCOLS[p] || String(p);

// ---- top talkers and drill-down ----

const ADDRESS_DIMS = new Set(['src_addr', 'dst_addr']);

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

async function loadTop() {
  const params = formValues($('#top-controls'));
  const data = await api('top', params);
  const first = data.rows.length ? data.rows[0][params.metric] : 0;
  fillTable($('#top-table'), data.rows, (row, i) => {
    const tr = document.createElement('tr');
    cell(tr, String(i + 1), 'num');
    const key = cell(tr, row.key, 'key');
    if (ADDRESS_DIMS.has(data.dim)) {
      const link = document.createElement('a');
      link.href = '#top';
      link.textContent = row.key;
      link.addEventListener('click', (event) => {
        event.preventDefault();
        openDrill(row.key).catch(handleError);
      });
      key.replaceChildren(link);
    }
    cell(tr, si(row.bytes, 'B'), 'num');
    cell(tr, si(row.packets), 'num');
    cell(tr, si(row.flows), 'num');
    const share = cell(tr, '', 'share');
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${first ? Math.round((100 * row[data.metric]) / first) : 0}%`;
    share.appendChild(bar);
    tr.dataset.key = row.key;
    return tr;
  });
  showStatus(`top ${data.rows.length} by ${data.metric} over ${data.window}, ${utc(data.now_ms)} UTC`);
}

const FLOW_COLUMNS = [
  ['Received (UTC)', (f) => utc(Math.floor(f.time_received_ns / 1e6))],
  ['Source', (f) => f.src_addr || ''],
  ['Port', (f) => (f.src_port ?? ''), 'num'],
  ['Destination', (f) => f.dst_addr || ''],
  ['Port', (f) => (f.dst_port ?? ''), 'num'],
  ['Protocol', (f) => (f.proto !== undefined ? protoName(f.proto) : '')],
  ['Bytes', (f) => (f.bytes !== undefined ? si(f.bytes, 'B') : ''), 'num'],
  ['Packets', (f) => (f.packets !== undefined ? si(f.packets) : ''), 'num'],
];

function fillFlows(table, flows) {
  const head = document.createElement('tr');
  FLOW_COLUMNS.forEach(([title, , cls]) => {
    const th = document.createElement('th');
    th.textContent = title;
    if (cls) th.className = cls;
    head.appendChild(th);
  });
  $('thead', table).replaceChildren(head);
  fillTable(table, flows, (flow) => {
    const tr = document.createElement('tr');
    FLOW_COLUMNS.forEach(([, value, cls]) => cell(tr, String(value(flow)), cls));
    return tr;
  });
}

// Says how complete a flow query was.
function querySummary(data, count) {
  const parts = [`${count} of ${data.matched} matching flows shown, ${data.scanned} read`];
  if (data.row_limit) parts.push('stopped at the row limit');
  if (data.scan_limit) parts.push('stopped at the read limit (console.query.scan.max)');
  if (data.timed_out) parts.push('stopped at the time limit (console.query.timeout.ms)');
  if (data.rejected) parts.push(`${data.rejected} messages did not decode`);
  return parts.join('; ') + '.';
}

async function openDrill(host) {
  const drill = $('#drill');
  const window = $('#top-controls').window.value;
  const minutes = { '1m': 1, '5m': 5, '1h': 60, '24h': 60 }[window];
  drill.hidden = false;
  $('#drill-host').textContent = host;
  document.querySelectorAll('.drill-minutes').forEach((el) => { el.textContent = minutes; });
  const [conversations, flows] = await Promise.all([
    api('top', { dim: 'conversation', host, window, n: 20 }),
    api('host', { addr: host, minutes, limit: 20 }),
  ]);
  fillTable($('#drill-conversations'), conversations.rows, (row) => {
    const tr = document.createElement('tr');
    cell(tr, row.key.replace('>', ' → '));
    cell(tr, si(row.bytes, 'B'), 'num');
    cell(tr, si(row.packets), 'num');
    cell(tr, si(row.flows), 'num');
    return tr;
  });
  fillTable($('#drill-peers'), flows.peers, (peer) => {
    const tr = document.createElement('tr');
    cell(tr, peer.peer);
    cell(tr, si(peer.bytes_out, 'B'), 'num');
    cell(tr, si(peer.bytes_in, 'B'), 'num');
    cell(tr, si(peer.flows), 'num');
    return tr;
  });
  fillTable($('#drill-ports'), flows.ports, (port) => {
    const tr = document.createElement('tr');
    cell(tr, protoName(port.proto));
    cell(tr, String(port.port), 'num');
    cell(tr, si(port.bytes, 'B'), 'num');
    cell(tr, si(port.flows), 'num');
    return tr;
  });
  fillFlows($('#drill-flows'), flows.flows);
  $('#drill-summary').textContent = querySummary(flows, flows.flows.length);
  drill.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// ---- live graph ----

const COLORS = ['#1f6feb', '#d9730d', '#2da44e', '#a371f7', '#cf222e', '#8c959f'];
let plot = null;

async function loadGraph() {
  const params = formValues($('#graph-controls'));
  const data = await api('series', { ...params, n: 5 });
  // Counts per bucket become rates; bytes become bits.
  const scale = (params.metric === 'bytes' ? 8 : 1) / data.resolution_s;
  const unit = { bytes: 'bit/s', packets: 'packets/s', flows: 'flows/s' }[params.metric];
  const layers = [...data.members.map((m) => ({ label: m.key, values: m.values })),
    { label: 'other', values: data.other }];
  // Stacks the layers: each drawn series is the sum of itself and those before it.
  const stacked = [];
  let sums = data.start_s.map(() => 0);
  layers.forEach((layer) => {
    sums = sums.map((s, i) => s + layer.values[i] * scale);
    stacked.push(sums);
  });
  const points = stacked.reduce((n, s) => n + s.filter((v) => v > 0).length, 0);
  const container = $('#graph');
  container.dataset.points = String(points);
  const series = [{ label: 'time (UTC)', value: (u, v) => (v ? utc(v * 1000) : '') }];
  layers.forEach((layer, i) => series.push({
    label: layer.label,
    stroke: COLORS[i % COLORS.length],
    fill: `${COLORS[i % COLORS.length]}33`,
    width: 1.5,
    points: { show: true, size: 5 },
    value: (u, v) => (v === null ? '' : si(v, unit)),
  }));
  const options = {
    width: Math.max(container.clientWidth, 400),
    height: 360,
    title: `${unit} by ${data.dim} over ${data.window}, stacked (UTC)`,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { x: { time: true } },
    // Time labels as 24-hour UTC HH:MM, the form network logs use.
    axes: [{ values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(11, 16)) },
      { values: (u, ticks) => ticks.map((t) => si(t, unit)), size: 90 }],
    series,
  };
  if (plot) plot.destroy();
  plot = new uPlot(options, [data.start_s, ...stacked], container);
  showStatus(`${data.members.length} members, ${data.start_s.length} points of ${data.resolution_s} s`);
}

// ---- alerts ----

async function loadAlerts() {
  const data = await api('alerts', { limit: 200 });
  $('#alerts-empty').hidden = data.alerts.length > 0;
  const body = $('#alerts-table tbody');
  body.replaceChildren();
  data.alerts.forEach((alert) => {
    const tr = document.createElement('tr');
    tr.className = alert.open ? 'open' : 'cleared';
    tr.dataset.subject = alert.subject;
    cell(tr, alert.open ? 'open' : 'cleared', 'state');
    cell(tr, alert.rule);
    cell(tr, alert.subject);
    cell(tr, alert.port ? String(alert.port) : '', 'num');
    cell(tr, si(alert.observed), 'num');
    cell(tr, si(alert.threshold), 'num');
    cell(tr, utc(alert.first_seen_ms));
    cell(tr, utc(alert.last_seen_ms));
    body.appendChild(tr);
    body.appendChild(evidenceRow(alert));
  });
  showStatus(`${data.alerts.length} alerts`);
}

// Returns where an alert's flows were seen: the exporter (name, address, site) and its interface.
function seenAt(alert) {
  if (!alert.exporter) return '';
  let text = alert.exporter_name ? `${alert.exporter_name} (${alert.exporter})` : alert.exporter;
  if (alert.exporter_site) text += `, site ${alert.exporter_site}`;
  if (alert.interface !== undefined) {
    const side = alert.top_sources ? 'output' : 'input';
    const name = alert.interface_name ? `${alert.interface_name} (index ${alert.interface})` : `index ${alert.interface}`;
    text += `, ${side} interface ${name}`;
  }
  return text;
}

// Builds the row under an alert with its evidence.
function evidenceRow(alert) {
  const tr = document.createElement('tr');
  tr.className = 'evidence';
  const td = document.createElement('td');
  td.colSpan = 8;
  const message = document.createElement('p');
  message.textContent = alert.message || '';
  const facts = document.createElement('p');
  facts.textContent = `${alert.metric} ${alert.observed} (threshold ${alert.threshold}) over ${alert.window_s} s; ` +
    `last interval: ${si(alert.flows)} flows, ${si(alert.bytes, 'B')}, ${si(alert.packets)} packets` +
    (alert.flows_first_ms ? `, received ${utc(alert.flows_first_ms)} to ${utc(alert.flows_last_ms)} UTC` : '') +
    `; id ${alert.id}`;
  td.append(message, facts);
  const seen = seenAt(alert);
  if (seen) {
    const p = document.createElement('p');
    p.textContent = `Seen at: ${seen}`;
    td.appendChild(p);
  }
  const addrs = alert.top_destinations || alert.top_sources || [];
  const lists = [
    [alert.top_sources ? 'Top sources' : 'Top destinations', addrs.map((a) => `${a.addr} (${a.flows} flows)`)],
    ['Top ports', (alert.top_ports || []).map((p) => `${p.port} (${p.flows} flows)`)],
  ];
  lists.forEach(([title, items]) => {
    if (!items.length) return;
    const p = document.createElement('p');
    p.textContent = `${title}: ${items.join(', ')}`;
    td.appendChild(p);
  });
  tr.appendChild(td);
  return tr;
}

// ---- flow query ----

let checkTimer = null;

// Shows the filter's error under the input: the message, the text and a caret at the offset.
function showFilterError(text, result) {
  const box = $('#query-error');
  if (result.valid) {
    box.hidden = true;
    box.replaceChildren();
    $('#query-filter').classList.remove('invalid');
    return;
  }
  const lines = text.split('\n');
  const line = lines[Math.max(0, result.line - 1)] || '';
  const message = document.createElement('span');
  message.className = 'message';
  message.textContent = result.message;
  const source = document.createElement('span');
  source.className = 'source';
  source.textContent = line;
  const caret = document.createElement('span');
  caret.className = 'caret';
  caret.textContent = `${' '.repeat(Math.max(0, result.column - 1))}^`;
  box.replaceChildren(message, '\n', source, '\n', caret);
  box.hidden = false;
  $('#query-filter').classList.add('invalid');
}

async function checkFilter() {
  const text = $('#query-filter').value;
  const result = await api('filter', { filter: text });
  showFilterError(text, result);
  return result.valid;
}

async function runQuery(event) {
  event.preventDefault();
  if (!(await checkFilter())) return;
  const params = formValues($('#query-form'));
  showStatus('reading flows...');
  const data = await api('flows', params);
  fillFlows($('#query-flows'), data.flows);
  $('#query-summary').textContent = querySummary(data, data.flows.length);
  showStatus(`${data.flows.length} flows`);
}

// ---- page switching ----

const PAGES = {
  top: { load: loadTop, every: 5000 },
  graph: { load: loadGraph, every: 10000 },
  alerts: { load: loadAlerts, every: 10000 },
  query: { load: null, every: 0 },
};
let refreshTimer = null;

// The fragment names the page and may preset its controls: #top?dim=dst_addr&window=1h.
function currentPage() {
  const [name] = location.hash.replace('#', '').split('?');
  return PAGES[name] ? name : 'top';
}

function applyFragmentParams(name) {
  const query = location.hash.split('?')[1];
  const form = $(`#${name}-controls`);
  if (!query || !form) return;
  new URLSearchParams(query).forEach((value, key) => {
    const control = form.elements.namedItem(key);
    if (control && [...control.options].some((o) => o.value === value)) control.value = value;
  });
}

function showPage() {
  const name = currentPage();
  if (location.hash === '#login-failed') {
    $('#login').hidden = false;
    $('#login-failed').hidden = false;
  }
  document.querySelectorAll('.page').forEach((p) => { p.hidden = p.id !== `page-${name}`; });
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === name));
  clearInterval(refreshTimer);
  showStatus('');
  applyFragmentParams(name);
  const page = PAGES[name];
  if (page.load) {
    const run = () => page.load().catch(handleError);
    run();
    refreshTimer = setInterval(run, page.every);
  }
}

window.addEventListener('hashchange', showPage);
document.querySelectorAll('#top-controls select').forEach((s) => s.addEventListener('change', () => loadTop().catch(handleError)));
document.querySelectorAll('#graph-controls select').forEach((s) => s.addEventListener('change', () => loadGraph().catch(handleError)));
$('#drill-close').addEventListener('click', () => { $('#drill').hidden = true; });
$('#query-form').addEventListener('submit', (event) => runQuery(event).catch(handleError));
$('#query-filter').addEventListener('input', () => {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => checkFilter().catch(handleError), 300);
});
window.addEventListener('resize', () => {
  if (plot) plot.setSize({ width: Math.max($('#graph').clientWidth, 400), height: 360 });
});
showPage();
