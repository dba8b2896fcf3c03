/** The HTML report's stylesheet, inlined in one `<style>` element that the page's CSP allows by hash. */
export const STYLES = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1d2228; --muted: #5b6570; --card: #ffffff; --line: #d9dee4; --code: #eef1f4;
  --critical: #b3123a; --high: #d4521b; --moderate: #b88a00; --low: #2f6fb0; --info: #6b7680; --unknown: #6b7680;
  --bad: #b3123a; --good: #1f7a45; --accent: #2f6fb0; --cpu: #d4521b; --mem: #2f6fb0; --pids: #7a4cc2;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181c; --fg: #e3e7eb; --muted: #9aa5b0; --card: #1d2126; --line: #333a42; --code: #262b31;
    --critical: #ff5c7c; --high: #ff8a50; --moderate: #e8c04a; --low: #6eaef0; --info: #9aa5b0; --unknown: #9aa5b0;
    --bad: #ff5c7c; --good: #4fc27e; --accent: #6eaef0;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { background: var(--bg); color: var(--fg); }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; background: var(--code); padding: 6px 8px; border-radius: 4px; }
header.top { padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--card); display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
header.top h1 { margin: 0; font-size: 18px; }
header.top .meta { color: var(--muted); }
nav.images { padding: 8px 24px; display: flex; gap: 8px; flex-wrap: wrap; }
nav.images a { color: var(--accent); text-decoration: none; padding: 2px 8px; border: 1px solid var(--line); border-radius: 12px; background: var(--card); overflow-wrap: anywhere; }
main { padding: 12px 24px 48px; max-width: 1500px; }
section.image { margin-bottom: 40px; }
section.image > h2 { font-size: 20px; margin: 12px 0 4px; overflow-wrap: anywhere; }
nav.toc { display: flex; gap: 10px; flex-wrap: wrap; margin: 6px 0 14px; font-size: 13px; }
nav.toc a { color: var(--accent); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
.card > h3 { margin: 0 0 8px; font-size: 16px; }
.card h4 { margin: 14px 0 6px; font-size: 14px; }
.muted { color: var(--muted); }
.verdict { border-left: 8px solid var(--good); }
.verdict.malicious { border-left-color: var(--bad); }
.verdict-label { font-size: 22px; font-weight: 700; letter-spacing: .02em; color: var(--good); }
.verdict.malicious .verdict-label { color: var(--bad); }
.verdict .summary { font-size: 15px; margin: 6px 0; overflow-wrap: anywhere; }
.chips { display: flex; gap: 6px; flex-wrap: wrap; margin: 4px 0; }
.chip { display: inline-block; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); background: var(--code); font-size: 12px; overflow-wrap: anywhere; }
.chip.bad { border-color: var(--bad); color: var(--bad); }
.counts { display: flex; gap: 14px; flex-wrap: wrap; margin-top: 6px; }
.counts .n { font-weight: 700; }
.sev { display: inline-block; min-width: 64px; text-align: center; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 12px; font-weight: 600; }
.sev-critical { background: var(--critical); } .sev-high { background: var(--high); } .sev-moderate { background: var(--moderate); }
.sev-low { background: var(--low); } .sev-info, .sev-unknown { background: var(--info); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
details.finding { border: 1px solid var(--line); border-radius: 4px; margin: 6px 0; background: var(--card); }
details.finding > summary { cursor: pointer; padding: 6px 10px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
details.finding > summary .title { font-weight: 600; overflow-wrap: anywhere; }
details.finding > .body { padding: 6px 12px 10px; border-top: 1px solid var(--line); }
.evidence ol, .evidence ul { margin: 2px 0; padding-left: 20px; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; }
table.data th, table.data td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
table.data th { position: sticky; top: 0; background: var(--card); white-space: nowrap; }
table.data th button { font: inherit; font-weight: 600; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; }
table.data th[aria-sort="ascending"] button::after { content: " \25B2"; font-size: 10px; }
table.data th[aria-sort="descending"] button::after { content: " \25BC"; font-size: 10px; }
table.data td.num, table.data th.num { text-align: right; }
table.data td.nowrap { white-space: nowrap; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
.filters { display: flex; gap: 14px; flex-wrap: wrap; align-items: center; margin: 6px 0; }
.filters label { display: inline-flex; gap: 4px; align-items: center; }
.filters input[type="search"] { min-width: 260px; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
.filters select { padding: 2px 4px; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; }
.shown { color: var(--muted); font-size: 12px; }
.layer { border: 1px solid var(--line); border-radius: 4px; padding: 8px 12px; margin: 8px 0; }
.layer-head { display: flex; gap: 14px; flex-wrap: wrap; align-items: baseline; }
.layer-head .idx { font-weight: 700; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 18px; }
ul.tree { padding-left: 0; }
ul.tree li { margin: 2px 0; }
ul.tree ul { border-left: 1px dashed var(--line); margin-left: 6px; }
.proc { display: inline-flex; gap: 6px; flex-wrap: wrap; align-items: baseline; }
.pid { color: var(--muted); font-size: 12px; }
.exe { font-weight: 600; overflow-wrap: anywhere; }
.arg { background: var(--code); border-radius: 3px; padding: 0 4px; overflow-wrap: anywhere; }
.charts { display: flex; gap: 16px; flex-wrap: wrap; }
.chart { flex: 1 1 300px; max-width: 460px; min-width: 260px; margin: 0; }
.chart svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted); font-size: 11px; font-family: system-ui, sans-serif; }
svg .axis { stroke: var(--line); }
svg .cpu { stroke: var(--cpu); fill: none; stroke-width: 2; }
svg .mem { stroke: var(--mem); fill: none; stroke-width: 2; }
svg .pids { stroke: var(--pids); fill: none; stroke-width: 2; }
svg .lane { stroke: var(--line); }
figure.chart:has(svg[data-chart="categories"]), figure.chart:has(svg[data-chart="severity"]), figure.chart:has(svg[data-chart="by-day"]) { max-width: 720px; }
svg .bar { fill: var(--accent); } svg .bar.cat { fill: var(--bad); }
svg .bar.sev-critical { fill: var(--critical); } svg .bar.sev-high { fill: var(--high); } svg .bar.sev-moderate { fill: var(--moderate); }
svg .bar.sev-low { fill: var(--low); } svg .bar.sev-unknown, svg .bar.sev-none { fill: var(--muted); }
svg .run { stroke: var(--accent); stroke-width: 3; }
svg .ev-exec { fill: var(--accent); } svg .ev-dns { fill: var(--moderate); } svg .ev-connect { fill: var(--bad); } svg .ev-file { fill: var(--good); }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); flex-wrap: wrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
.swatch.ev-exec { background: var(--accent); } .swatch.ev-dns { background: var(--moderate); } .swatch.ev-connect { background: var(--bad); } .swatch.ev-file { background: var(--good); }
.empty { color: var(--muted); font-style: italic; }
.warn { color: var(--high); } .error { color: var(--bad); }
footer { color: var(--muted); padding: 0 24px 24px; font-size: 12px; }
`;
