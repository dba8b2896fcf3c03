/** The dashboard: the state of the registry (`/api/dashboard`) as ECharts charts and the tables behind them. */
import { visible } from '../../report/html/client/text.js';
import { useEffect, useRef } from 'preact/hooks';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { AggregateReport, Ranked } from '../../model/index.js';
import { useApi } from './api.js';
import { indicatorHref } from './lists.js';

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, SVGRenderer]);

type Option = Parameters<echarts.ECharts['setOption']>[0];

/** The bars' colours (tests find a chart's bars by them). */
const SEVERITY_COLOUR = '#d4521b';
const CATEGORY_COLOUR = '#b3123a';
const JUDGED_COLOUR = '#2f6fb0';

function Chart({ name, option }: { name: string; option: Option }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    // SVG: text in the chart stays text, and the page's CSP needs no inline anything
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    chart.setOption({ animation: false, ...option }); // drawn at once: the figures, not a show
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [option]);
  return <div class="echart" data-chart={name} ref={el} />;
}

const bars = (labels: string[], values: number[], color: string): Option => ({
  grid: { left: 130, right: 30, top: 10, bottom: 30 },
  tooltip: { trigger: 'axis' },
  xAxis: { type: 'value', minInterval: 1 },
  yAxis: { type: 'category', data: labels, inverse: true },
  series: [{ type: 'bar', data: values, itemStyle: { color } }],
});

/** A ranking; each value links to its page when `href` says where. */
function Ranking({ title, column, name, list, href }: { title: string; column: string; name: string; list: Ranked[]; href?: (value: string) => string }) {
  return (
    <section class="card">
      <h3>{title}</h3>
      {list.length === 0 ? <p class="empty">None.</p> : (
        <div class="scroll"><table class="data" data-table={name}><thead><tr><th>{column}</th><th class="num">images</th></tr></thead>
          <tbody>{list.map((r) => <tr><td class="mono wrap">{href ? <a href={href(r.value)}>{visible(r.value)}</a> : visible(r.value)}</td><td class="num">{r.images.toLocaleString('en-US')}</td></tr>)}</tbody></table></div>
      )}
    </section>
  );
}

export function DashboardPage() {
  const { data, error } = useApi<AggregateReport>('api/dashboard');
  if (!data) return error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>;
  const severities = ['critical', 'high', 'moderate', 'low', 'unknown', 'none'] as const;
  return (
    <>
      <section class="card" data-section="summary">
        <h3>The state of the registry</h3>
        <p data-figure="judged">{data.images.judged.toLocaleString('en-US')} images judged ({data.images.tags} tags in {data.images.repositories} repositories), {data.images.detonated} detonated; {data.images.malicious} judged malicious, from repositories with {data.images.maliciousPulls === null ? 'unknown' : data.images.maliciousPulls.toLocaleString('en-US')} pulls. Figures as of {data.generatedAt}.</p>
      </section>
      <div class="grid">
        <section class="card"><h3>Images by worst vulnerability</h3>
          {severities.some((s) => data.worstSeverity[s] > 0)
            ? <Chart name="severity" option={bars([...severities], severities.map((s) => data.worstSeverity[s]), SEVERITY_COLOUR)} />
            : <p class="empty" data-chart-empty="severity">No image was matched against an advisory DB.</p>}
          {data.notMatched > 0 ? <p class="muted" data-figure="not-matched">{data.notMatched.toLocaleString('en-US')} of {data.images.judged.toLocaleString('en-US')} images were not matched against an advisory DB (scanned with --no-vulns, or before a DB was fetched): they are not counted here.</p> : null}
        </section>
        <section class="card"><h3>Images per threat category</h3>
          {data.categories.length > 0
            ? <Chart name="categories" option={bars(data.categories.map((c) => c.category), data.categories.map((c) => c.images), CATEGORY_COLOUR)} />
            : <p class="empty" data-chart-empty="categories">No image was judged malicious.</p>}
        </section>
        <section class="card"><h3>Results by day</h3>
          <Chart name="by-day" option={{
            grid: { left: 50, right: 20, top: 40, bottom: 30 }, tooltip: { trigger: 'axis' }, legend: { top: 0 },
            xAxis: { type: 'category', data: data.byDay.map((d) => d.date) }, yAxis: { type: 'value', minInterval: 1 },
            series: [
              { name: 'judged', type: 'bar', data: data.byDay.map((d) => d.judged), itemStyle: { color: JUDGED_COLOUR } },
              { name: 'malicious', type: 'bar', data: data.byDay.map((d) => d.malicious), itemStyle: { color: CATEGORY_COLOUR } },
            ],
          }} /></section>
      </div>
      <div class="grid">
        <Ranking title="Top mining pools" column="pool" name="pools" list={data.top.pools} href={(v) => indicatorHref('pool', v)} />
        <Ranking title="Top wallets" column="wallet" name="wallets" list={data.top.wallets} href={(v) => indicatorHref('wallet', v)} />
        <Ranking title="Top domains" column="domain" name="domains" list={data.top.domains} href={(v) => indicatorHref('domain', v)} />
        <Ranking title="Top attack tools" column="attack tool" name="tools" list={data.top.attackTools} />
        <Ranking title="Top vulnerabilities" column="vulnerability" name="cves" list={data.top.vulnerabilities} href={(v) => `#/?${new URLSearchParams({ q: v, kind: 'vulnerability' }).toString()}`} />
      </div>
    </>
  );
}
