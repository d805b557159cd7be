/** A uPlot time chart that follows its container's width. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: number[];
  color: string;
  format?: (n: number) => string;
}

export function TimeChart({ title, times, series, height = 220 }: { title: string; times: number[]; series: ChartSeries[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = series[0]?.format ?? ((n: number) => n.toLocaleString());
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, fill: `${s.color}22`, width: 2, points: { show: times.length <= 24 }, value: (_u: uPlot, v: number | null) => (v == null ? '-' : (s.format ?? fmt)(v)) }))],
        axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map(fmt), size: 70 }],
        scales: { x: { time: true } },
        legend: { live: true },
      },
      [times, ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series, height]);
  const points = series.reduce((n, s) => n + s.values.filter((v) => v > 0).length, 0);
  return (
    <figure class="chart">
      <figcaption class="strong">{title}</figcaption>
      <div ref={box} class="chart-box" data-points={points} role="img" aria-label={`${title}: ${times.length} time steps`} />
    </figure>
  );
}
