import { useId } from "react";

export interface BarDatum {
  key: string;
  label: string;
  value: number;
  /** Shown in parentheses after the value, e.g. the weight. */
  note?: string;
  className?: string;
}

export interface BarChartProps {
  title: string;
  data: readonly BarDatum[];
  /** The value of a full bar (100 for scores; the largest value by default). */
  max?: number;
  formatValue?: (value: number) => string;
  unit?: string;
}

const ROW = 30;
const LABEL_W = 170;
const VALUE_W = 90;
const WIDTH = 560;

/** A small horizontal bar chart in SVG; its text alternative lists every value. */
export function BarChart({ title, data, max, formatValue = (v) => String(Math.round(v * 10) / 10), unit = "" }: BarChartProps) {
  const ids = useId();
  const top = Math.max(max ?? 0, ...data.map((d) => d.value), 1);
  const barW = WIDTH - LABEL_W - VALUE_W;
  const height = data.length * ROW + 8;
  const summary = data.map((d) => `${d.label}: ${formatValue(d.value)}${unit}${d.note ? ` (${d.note})` : ""}`).join("; ");
  return (
    <figure className="voice-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        role="img"
        aria-labelledby={`${ids}-title ${ids}-desc`}
        preserveAspectRatio="xMinYMin meet"
        style={{ maxWidth: WIDTH }}
      >
        <title id={`${ids}-title`}>{title}</title>
        <desc id={`${ids}-desc`}>{summary}</desc>
        {data.map((d, i) => {
          const y = i * ROW + 4;
          const w = Math.max(0, Math.min(1, d.value / top)) * barW;
          return (
            <g key={d.key} className={`voice-chart__row ${d.className ?? ""}`} data-key={d.key}>
              <text x={LABEL_W - 8} y={y + ROW / 2} textAnchor="end" dominantBaseline="middle" className="voice-chart__label">
                {d.label.length > 24 ? `${d.label.slice(0, 23)}…` : d.label}
              </text>
              <rect x={LABEL_W} y={y + 5} width={barW} height={ROW - 10} rx={3} className="voice-chart__track" />
              <rect x={LABEL_W} y={y + 5} width={w} height={ROW - 10} rx={3} className="voice-chart__bar" />
              <text x={LABEL_W + barW + 8} y={y + ROW / 2} dominantBaseline="middle" className="voice-chart__value">
                {formatValue(d.value)}
                {unit}
                {d.note ? ` (${d.note})` : ""}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="voice-sr-only">{title}</figcaption>
    </figure>
  );
}
