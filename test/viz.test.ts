/** Tests of src/viz: rasters, font, plots, composition, PNG/GIF/WebP encoding and animation frames. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import {
  comparisonFrame,
  decodeWebpFrame,
  encodeAnimatedWebp,
  encodeGif,
  formatLoss,
  registrationFrame,
} from '../src/viz/animation.js';
import { absoluteDifference, addCaption, checkerboard, differenceRaster, overlayImages, sideBySide } from '../src/viz/compose.js';
import { encodeRasterPng } from '../src/viz/encode.js';
import { drawText, measureText } from '../src/viz/font.js';
import { drawPlotPanel, formatTicks, plotLines, plotRegistrationTrajectory, trajectoryFromRows, type PoseTrajectory } from '../src/viz/plot.js';
import {
  colormapTable,
  createRaster,
  drawLine,
  fillRect,
  getPixel,
  grayToRaster,
  resizeNearest,
  scaleNearest,
  strokeRect,
  type GrayImage,
  type Raster,
} from '../src/viz/raster.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** A gray image whose value is f(column, row). */
function grayImage(width: number, height: number, value: (column: number, row: number) => number): GrayImage {
  const data = new Float32Array(width * height);
  for (let row = 0; row < height; row++) for (let column = 0; column < width; column++) data[row * width + column] = value(column, row);
  return { data, height, width };
}

/** Pixels of `raster` whose RGB equals `rgb` exactly, as [x, y] pairs. */
function pixelsOfColor(raster: Raster, rgb: readonly [number, number, number]): [number, number][] {
  const found: [number, number][] = [];
  for (let y = 0; y < raster.height; y++) {
    for (let x = 0; x < raster.width; x++) {
      const offset = (y * raster.width + x) * 4;
      if (raster.data[offset] === rgb[0] && raster.data[offset + 1] === rgb[1] && raster.data[offset + 2] === rgb[2]) found.push([x, y]);
    }
  }
  return found;
}

/** Bounding box of the pixels brighter than `threshold` (red channel). */
function inkBox(raster: Raster, threshold = 128): { left: number; top: number; right: number; bottom: number } | undefined {
  let left = Infinity;
  let top = Infinity;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < raster.height; y++) {
    for (let x = 0; x < raster.width; x++) {
      if (raster.data[(y * raster.width + x) * 4] > threshold) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return right >= 0 ? { left, top, right, bottom } : undefined;
}

/** A tiny GIF reader: logical screen, NETSCAPE loop count, frames (LZW-decoded to RGB). */
interface ParsedGif {
  width: number;
  height: number;
  loopCount: number | undefined;
  delays: number[];
  frames: Uint8Array[]; // RGB, width × height × 3
}

function readSubBlocks(bytes: Uint8Array, start: number): { data: Uint8Array; next: number } {
  const parts: number[] = [];
  let position = start;
  for (;;) {
    const size = bytes[position++];
    if (size === 0) break;
    for (let index = 0; index < size; index++) parts.push(bytes[position + index]);
    position += size;
  }
  return { data: Uint8Array.from(parts), next: position };
}

function lzwDecode(data: Uint8Array, minimumCodeSize: number, pixelCount: number): Uint8Array {
  const output = new Uint8Array(pixelCount);
  const clearCode = 1 << minimumCodeSize;
  const endCode = clearCode + 1;
  let codeSize = minimumCodeSize + 1;
  let dictionary: number[][] = [];
  const reset = () => {
    dictionary = [];
    for (let code = 0; code < clearCode; code++) dictionary.push([code]);
    dictionary.push([], []);
    codeSize = minimumCodeSize + 1;
  };
  reset();
  let bitPosition = 0;
  let written = 0;
  let previous: number[] | undefined;
  while (bitPosition + codeSize <= data.length * 8) {
    let code = 0;
    for (let bit = 0; bit < codeSize; bit++, bitPosition++) {
      if (data[bitPosition >> 3] & (1 << (bitPosition & 7))) code |= 1 << bit;
    }
    if (code === clearCode) {
      reset();
      previous = undefined;
      continue;
    }
    if (code === endCode) break;
    let entry: number[];
    if (code < dictionary.length) entry = dictionary[code];
    else if (previous) entry = [...previous, previous[0]];
    else throw new Error('bad LZW stream');
    for (const value of entry) if (written < pixelCount) output[written++] = value;
    if (previous) dictionary.push([...previous, entry[0]]);
    previous = entry;
    if (dictionary.length === 1 << codeSize && codeSize < 12) codeSize++;
  }
  assert.equal(written, pixelCount, 'LZW stream holds every pixel');
  return output;
}

function parseGif(bytes: Uint8Array): ParsedGif {
  const text = (start: number, length: number) => String.fromCharCode(...bytes.subarray(start, start + length));
  assert.equal(text(0, 6), 'GIF89a');
  const width = bytes[6] | (bytes[7] << 8);
  const height = bytes[8] | (bytes[9] << 8);
  const packed = bytes[10];
  let position = 13;
  let globalTable: Uint8Array | undefined;
  if (packed & 0x80) {
    const size = 3 * (1 << ((packed & 7) + 1));
    globalTable = bytes.subarray(position, position + size);
    position += size;
  }
  const result: ParsedGif = { width, height, loopCount: undefined, delays: [], frames: [] };
  for (;;) {
    const introducer = bytes[position++];
    if (introducer === 0x3b) break;
    if (introducer === 0x21) {
      const label = bytes[position++];
      if (label === 0xff) {
        const identifierSize = bytes[position];
        const identifier = text(position + 1, identifierSize);
        const { data, next } = readSubBlocks(bytes, position + 1 + identifierSize);
        if (identifier === 'NETSCAPE2.0') result.loopCount = data[1] | (data[2] << 8);
        position = next;
      } else if (label === 0xf9) {
        const { data, next } = readSubBlocks(bytes, position);
        result.delays.push(data[1] | (data[2] << 8));
        position = next;
      } else {
        position = readSubBlocks(bytes, position).next;
      }
    } else if (introducer === 0x2c) {
      const frameWidth = bytes[position + 4] | (bytes[position + 5] << 8);
      const frameHeight = bytes[position + 6] | (bytes[position + 7] << 8);
      const framePacked = bytes[position + 8];
      position += 9;
      let table = globalTable;
      if (framePacked & 0x80) {
        const size = 3 * (1 << ((framePacked & 7) + 1));
        table = bytes.subarray(position, position + size);
        position += size;
      }
      const minimumCodeSize = bytes[position++];
      const { data, next } = readSubBlocks(bytes, position);
      position = next;
      const indices = lzwDecode(data, minimumCodeSize, frameWidth * frameHeight);
      assert.ok(table, 'frame has a colour table');
      const rgb = new Uint8Array(indices.length * 3);
      for (let pixel = 0; pixel < indices.length; pixel++) rgb.set(table.subarray(indices[pixel] * 3, indices[pixel] * 3 + 3), pixel * 3);
      result.frames.push(rgb);
    } else {
      throw new Error(`unexpected GIF block 0x${introducer.toString(16)} at ${position - 1}`);
    }
  }
  return result;
}

/** RIFF chunks of a WebP: fourCC, payload start and size. */
function webpChunks(bytes: Uint8Array): { fourCC: string; start: number; size: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (start: number) => String.fromCharCode(...bytes.subarray(start, start + 4));
  assert.equal(text(0), 'RIFF');
  assert.equal(text(8), 'WEBP');
  assert.equal(view.getUint32(4, true), bytes.length - 8, 'RIFF size field');
  const chunks: { fourCC: string; start: number; size: number }[] = [];
  for (let position = 12; position + 8 <= bytes.length; ) {
    const size = view.getUint32(position + 4, true);
    chunks.push({ fourCC: text(position), start: position + 8, size });
    position += 8 + size + (size & 1);
  }
  return chunks;
}

/** Test frames: a gradient with a moving bright square and coloured text. */
function testFrames(count: number, width = 64, height = 48): Raster[] {
  return Array.from({ length: count }, (_, index) => {
    const raster = grayToRaster(grayImage(width, height, (column, row) => column + row));
    fillRect(raster, { x: 4 + index * 6, y: 10, width: 12, height: 12 }, [255, 255, 255]);
    drawText(raster, `${index}`, 2, 2, { color: [255, 200, 0] });
    return raster;
  });
}

// ---------------------------------------------------------------------------------------------
// Rasters

describe('raster', () => {
  it('fills, scales by whole factors and resizes', () => {
    const raster = createRaster(100, 100, '#102030');
    assert.deepEqual(getPixel(raster, 50, 50), [16, 32, 48, 255]);
    fillRect(raster, { x: 10, y: 20, width: 1, height: 1 }, [255, 0, 0]);
    const big = scaleNearest(raster, 3);
    assert.equal(big.width, 300);
    assert.equal(big.height, 300);
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) assert.deepEqual(getPixel(big, 30 + dx, 60 + dy), [255, 0, 0, 255]);
    assert.deepEqual(getPixel(big, 33, 60), [16, 32, 48, 255]);
    const small = resizeNearest(big, 100, 100);
    assert.deepEqual(small.data, raster.data);
  });

  it('draws a 1-pixel line through pixel centres on exactly one row, wider lines on more', () => {
    const raster = createRaster(40, 20);
    drawLine(raster, 2.5, 5.5, 30.5, 5.5, [255, 255, 255]);
    const lit = inkBox(raster, 0);
    assert.deepEqual(lit && [lit.top, lit.bottom], [5, 5]);
    const thick = createRaster(40, 20);
    drawLine(thick, 5, 10.5, 30, 10.5, [255, 255, 255], { width: 3 });
    const rows = new Set(pixelsOfColor(thick, [255, 255, 255]).map(([, y]) => y));
    assert.deepEqual([...rows].sort((a, b) => a - b), [9, 10, 11]);
  });

  it('leaves gaps in dashed lines and antialiases diagonals', () => {
    const raster = createRaster(60, 10);
    drawLine(raster, 0, 4.5, 60, 4.5, [255, 255, 255], { dash: [6, 4] });
    const row = Array.from({ length: 60 }, (_, x) => raster.data[(4 * 60 + x) * 4]);
    assert.ok(row.filter((value) => value === 0).length >= 10, 'gaps present');
    assert.ok(row.filter((value) => value === 255).length >= 25, 'dashes present');
    const diagonal = createRaster(20, 20);
    drawLine(diagonal, 0, 0, 20, 13, [255, 255, 255]);
    const partial = Array.from({ length: 400 }, (_, pixel) => diagonal.data[pixel * 4]).filter((value) => value > 0 && value < 255);
    assert.ok(partial.length > 5, 'some pixels are partly covered');
  });

  it('outlines rectangles inside the box', () => {
    const raster = createRaster(10, 10);
    strokeRect(raster, { x: 2, y: 2, width: 6, height: 5 }, [255, 255, 255]);
    assert.deepEqual(inkBox(raster), { left: 2, top: 2, right: 7, bottom: 6 });
    assert.equal(getPixel(raster, 4, 4)[0], 0);
  });

  it('windows gray images and applies colormaps', () => {
    const image = grayImage(3, 1, (column) => [-1, 0.5, 5][column]);
    const gray = grayToRaster(image, { min: 0, max: 1 });
    assert.deepEqual(getPixel(gray, 0, 0), [0, 0, 0, 255]);
    assert.deepEqual(getPixel(gray, 1, 0).slice(0, 3), [128, 128, 128]);
    assert.deepEqual(getPixel(gray, 2, 0), [255, 255, 255, 255]);
    const viridis = grayToRaster(image, { min: 0, max: 1, colormap: 'viridis' });
    assert.deepEqual(getPixel(viridis, 0, 0).slice(0, 3), [0x44, 0x01, 0x54]);
    assert.deepEqual(getPixel(viridis, 2, 0).slice(0, 3), [0xfd, 0xe7, 0x25]);
    assert.equal(colormapTable('magma').length, 768);
    const nan = grayToRaster({ data: Float32Array.of(NaN, 1), height: 1, width: 2 });
    assert.deepEqual(getPixel(nan, 0, 0), [0, 0, 0, 255]);
  });
});

// ---------------------------------------------------------------------------------------------
// Font

describe('font', () => {
  it('draws "I" as a vertical stroke 7 pixels tall, centred in its 3-pixel width', () => {
    const raster = createRaster(20, 20);
    drawText(raster, 'I', 5, 4, { color: [255, 255, 255] });
    assert.equal(measureText('I').width, 3);
    const box = inkBox(raster);
    assert.deepEqual(box, { left: 5, top: 4, right: 7, bottom: 10 });
    for (let y = 4; y <= 10; y++) assert.equal(getPixel(raster, 6, y)[0], 255, `stem at row ${y}`);
    assert.equal(getPixel(raster, 5, 7)[0], 0, 'no ink beside the stem mid-height');
  });

  it('measures what it draws, at every scale and for several lines', () => {
    for (const scale of [1, 2, 3]) {
      for (const [text, bold] of [['Hello', false], ['iter 12  loss 0.9812', false], ['ABC xyz 0123', false], ['Bold mm', true]] as const) {
        const size = measureText(text, { scale, bold });
        const raster = createRaster(size.width + 20, size.height + 20);
        drawText(raster, text, 10, 10, { scale, bold });
        const box = inkBox(raster);
        assert.ok(box);
        assert.equal(box.left, 10, `${text} starts at x`);
        assert.equal(box.right, 10 + size.width - 1, `${text} ends where measured (scale ${scale})`);
        assert.equal(box.top, 10);
        assert.ok(box.bottom <= 10 + size.height - 1);
      }
    }
    assert.equal(measureText('ab\ncd').height, 2 * measureText('a').height + 2);
    assert.equal(measureText('12345').width, measureText('11111').width, 'digits are tabular');
    assert.ok(measureText('i').width < measureText('m').width, 'letters are proportional');
    // Bold keeps the gaps inside "m" open: its middle row still has dark pixels between strokes.
    const bold = createRaster(20, 20);
    drawText(bold, 'm', 0, 0, { scale: 2, bold: true });
    const middleRow = Array.from({ length: 12 }, (_, x) => getPixel(bold, x, 8)[0]);
    assert.ok(middleRow.some((value, x) => value === 0 && x > 0 && x < 10), `gaps in bold m: ${middleRow}`);
  });

  it('aligns, paints backgrounds and writes vertically', () => {
    const raster = createRaster(60, 60);
    drawText(raster, 'Wx', 30, 30, { align: 'right', baseline: 'middle', background: [255, 0, 0] });
    assert.ok(pixelsOfColor(raster, [255, 0, 0]).length > 0, 'background painted');
    const upright = createRaster(60, 60);
    drawText(upright, 'Label', 30, 30, { vertical: true, align: 'center' });
    const box = inkBox(upright);
    assert.ok(box && box.bottom - box.top > box.right - box.left, 'vertical text is taller than wide');
  });
});

// ---------------------------------------------------------------------------------------------
// Plots

describe('plot', () => {
  it('formats ticks with just enough decimals, or exponents', () => {
    assert.deepEqual(formatTicks([0, 0.25, 0.5], 0.25), ['0.00', '0.25', '0.50']);
    assert.deepEqual(formatTicks([-10, 0, 10], 10), ['-10', '0', '10']);
    assert.deepEqual(formatTicks([0, 2e-5, 4e-5], 2e-5), ['0', '2e-5', '4e-5']);
  });

  it('draws a constant series on a single row', () => {
    const raster = plotLines({ series: [{ values: [3, 3, 3, 3, 3, 3], color: [255, 0, 0], lineWidth: 1 }], width: 400, height: 300, title: 'constant' });
    const red = pixelsOfColor(raster, [255, 0, 0]);
    assert.ok(red.length > 100, 'the line is drawn');
    assert.equal(new Set(red.map(([, y]) => y)).size, 1, 'all on one row');
  });

  it('draws a decreasing loss going down, with the mapping it reports', () => {
    const loss = Array.from({ length: 50 }, (_, iteration) => Math.exp(-iteration / 10));
    const raster = createRaster(500, 350, [255, 255, 255]);
    const layout = drawPlotPanel(raster, { x: 0, y: 0, width: 500, height: 350 }, {
      series: [{ name: 'loss', values: loss, color: [0, 0, 255], lineWidth: 2 }],
      title: 'loss',
      xLabel: 'iteration',
      yLabel: 'loss',
      legend: 'none',
    });
    const meanRow = (fromColumn: number, toColumn: number) => {
      const rows = pixelsOfColor(raster, [0, 0, 255]).filter(([x]) => x >= fromColumn && x < toColumn).map(([, y]) => y);
      assert.ok(rows.length > 0);
      return rows.reduce((sum, row) => sum + row, 0) / rows.length;
    };
    const { plotArea } = layout;
    const quarter = plotArea.width / 4;
    assert.ok(meanRow(plotArea.x, plotArea.x + quarter) < meanRow(plotArea.x + 3 * quarter, plotArea.x + plotArea.width) - 50);
    const firstColumn = Math.floor(layout.xToPixel(0));
    assert.ok(Math.abs(layout.yToPixel(loss[0]) - meanRow(firstColumn, firstColumn + 2)) < 4, 'first point where the mapping says');
    // A log axis straightens the exponential: the middle sits halfway between the ends.
    const logRaster = createRaster(500, 350, [255, 255, 255]);
    const logLayout = drawPlotPanel(logRaster, { x: 0, y: 0, width: 500, height: 350 }, { series: [{ values: loss }], logY: true });
    const middle = logLayout.yToPixel(loss[25]);
    assert.ok(Math.abs(middle - (logLayout.yToPixel(loss[0]) + logLayout.yToPixel(loss[50 - 1])) / 2) < 4);
  });

  it('lays out several runs, six parameter panels and true-value lines', () => {
    const runs: PoseTrajectory[] = ['SGD', 'Adam'].map((label, runIndex) => {
      const decay = (target: number, start: number) => Array.from({ length: 40 }, (_, iteration) => target + (start - target) * Math.exp(-iteration / (8 + 8 * runIndex)));
      return { label, alpha: decay(0.1, 0.4), beta: decay(0, -0.2), gamma: decay(-0.1, 0.1), bx: decay(0, 20), by: decay(5, -10), bz: decay(0, 30), loss: decay(0, 1) };
    });
    const raster = plotRegistrationTrajectory(runs, { truth: { alpha: 0.1, beta: 0, gamma: -0.1, bx: 0, by: 5, bz: 0 }, title: 'registration' });
    assert.equal(raster.width, 1200);
    assert.equal(raster.height, 1000);
    assert.ok(pixelsOfColor(raster, [31, 119, 180]).length > 500, 'first run drawn in the first palette colour');
    assert.ok(pixelsOfColor(raster, [255, 127, 14]).length > 500, 'second run in the second');
    const rows = trajectoryFromRows([{ alpha: 1, beta: 2, gamma: 3, bx: 4, by: 5, bz: 6, loss: 7 }], 'one');
    assert.equal(rows.bz[0], 6);
    assert.equal(rows.label, 'one');
  });
});

// ---------------------------------------------------------------------------------------------
// Composition

describe('compose', () => {
  const fixed = grayImage(32, 24, (column, row) => column + row);
  const moving = grayImage(32, 24, (column, row) => column + row + (column > 16 ? 10 : 0));

  it('places images side by side with captions', () => {
    const raster = sideBySide([fixed, moving, grayToRaster(fixed)], ['fixed', 'moving', 'copy'], { scale: 2 });
    assert.ok(raster.width >= 3 * 64);
    assert.ok(raster.height > 48);
    const captioned = addCaption(grayToRaster(fixed), 'caption', { position: 'above' });
    assert.ok(captioned.height > 24);
  });

  it('shows agreement as gray and disagreement as colour in the overlay', () => {
    const overlay = overlayImages(fixed, moving);
    const [red, green, blue] = getPixel(overlay, 5, 5);
    assert.equal(red, blue);
    assert.ok(Math.abs(red - green) <= 1, 'left half agrees: gray');
    const right = getPixel(overlay, 30, 5);
    assert.ok(right[1] > right[0] + 30, 'right half: moving brighter, green');
  });

  it('builds checkerboards and difference images', () => {
    const board = checkerboard(fixed, moving, { tiles: 2 });
    const fixedRaster = grayToRaster(fixed, { min: 0, max: 64 });
    assert.deepEqual(getPixel(board, 1, 1), getPixel(fixedRaster, 1, 1));
    const difference = absoluteDifference(fixed, moving);
    assert.equal(difference.data[5 * 32 + 20], 10);
    assert.equal(difference.data[5 * 32 + 2], 0);
    const colour = differenceRaster(fixed, moving);
    assert.deepEqual(getPixel(colour, 2, 5).slice(0, 3), [0x44, 0x01, 0x54]);
    const signed = differenceRaster(fixed, moving, { signed: true });
    assert.ok(getPixel(signed, 20, 5)[2] > getPixel(signed, 20, 5)[0], 'fixed − moving < 0 is blue');
  });
});

// ---------------------------------------------------------------------------------------------
// Encoders and animation frames

describe('encoders', () => {
  it('encodes PNGs that decode to the same pixels', () => {
    const raster = testFrames(1, 37, 23)[0];
    const png = decodePng(encodeRasterPng(raster));
    assert.equal(png.width, 37);
    assert.equal(png.height, 23);
    assert.equal(png.channels, 4);
    assert.deepEqual(Array.from(png.data as Uint8Array), Array.from(raster.data));
  });

  it('encodes looping GIFs with one image per frame and faithful colours', () => {
    const frames = testFrames(5);
    for (const palette of ['global', 'per-frame'] as const) {
      const gif = parseGif(encodeGif(frames, { delayMs: 120, palette }));
      assert.equal(gif.width, 64);
      assert.equal(gif.height, 48);
      assert.equal(gif.frames.length, 5, `${palette}: five image descriptors`);
      assert.equal(gif.loopCount, 0, 'NETSCAPE2.0 loops forever');
      assert.deepEqual(gif.delays, [12, 12, 12, 12, 12]);
      for (let index = 0; index < frames.length; index++) {
        let worst = 0;
        for (let pixel = 0; pixel < 64 * 48; pixel++) {
          for (let channel = 0; channel < 3; channel++) {
            worst = Math.max(worst, Math.abs(gif.frames[index][pixel * 3 + channel] - frames[index].data[pixel * 4 + channel]));
          }
        }
        assert.ok(worst <= 12, `${palette} frame ${index}: colour error ${worst}`);
      }
    }
    // A smooth gray ramp keeps (nearly) every level — no RGB565 banding — and its text colour exactly.
    const ramp = grayToRaster(grayImage(256, 9, (column) => column));
    drawText(ramp, 'x', 0, 0, { color: [255, 190, 60] });
    const rampGif = parseGif(encodeGif([ramp]));
    for (let column = 8; column < 256; column++) {
      const level = rampGif.frames[0][(8 * 256 + column) * 3];
      assert.ok(Math.abs(level - column) <= 1, `gray level ${column} came back as ${level}`);
    }
    const textPixel = pixelsOfColor(ramp, [255, 190, 60])[0];
    assert.ok(textPixel);
    const textOffset = (textPixel[1] * 256 + textPixel[0]) * 3;
    assert.deepEqual(Array.from(rampGif.frames[0].subarray(textOffset, textOffset + 3)), [255, 190, 60]);
    const exact = parseGif(encodeGif([grayToRaster(grayImage(200, 2, (column) => column))]));
    for (let column = 0; column < 200; column++) assert.equal(exact.frames[0][column * 3], Math.round((column / 199) * 255), 'pure gray: exact');
    const tiny = parseGif(encodeGif([ramp], { maxColors: 4 }));
    assert.equal(tiny.frames.length, 1);
    assert.equal(parseGif(encodeGif(frames, { loop: false })).loopCount, undefined, 'play once: no loop block');
    assert.equal(parseGif(encodeGif(frames, { loop: 3 })).loopCount, 2, 'three plays: two repeats');
    assert.throws(() => encodeGif([frames[0], testFrames(1, 10, 10)[0]]), /one size/);
    assert.throws(() => encodeGif([]), /at least one frame/);
  });

  it('encodes animated WebPs (VP8X animation flag, ANIM, one ANMF per frame) that decode back', async () => {
    const frames = testFrames(4);
    const handlersBefore = process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException');
    const bytes = await encodeAnimatedWebp(frames, { delayMs: 80 });
    const chunks = webpChunks(bytes);
    assert.equal(chunks[0].fourCC, 'VP8X');
    const flags = bytes[chunks[0].start];
    assert.ok(flags & 0x02, 'animation flag set');
    const canvasWidth = 1 + (bytes[chunks[0].start + 4] | (bytes[chunks[0].start + 5] << 8) | (bytes[chunks[0].start + 6] << 16));
    const canvasHeight = 1 + (bytes[chunks[0].start + 7] | (bytes[chunks[0].start + 8] << 8) | (bytes[chunks[0].start + 9] << 16));
    assert.deepEqual([canvasWidth, canvasHeight], [64, 48]);
    assert.equal(chunks.filter((chunk) => chunk.fourCC === 'ANIM').length, 1);
    const anim = chunks.find((chunk) => chunk.fourCC === 'ANIM');
    assert.ok(anim);
    assert.equal(bytes[anim.start + 4] | (bytes[anim.start + 5] << 8), 0, 'loops forever');
    const anmf = chunks.filter((chunk) => chunk.fourCC === 'ANMF');
    assert.equal(anmf.length, 4);
    assert.equal(bytes[anmf[0].start + 12] | (bytes[anmf[0].start + 13] << 8) | (bytes[anmf[0].start + 14] << 16), 80, 'frame duration');

    const decoded = await decodeWebpFrame(bytes, 2);
    assert.equal(decoded.width, 64);
    assert.equal(decoded.height, 48);
    // Inside the white square of frame 2 (x 16..27, y 10..21) and in the gradient.
    for (const [x, y] of [[21, 15], [50, 40], [5, 40]]) {
      const original = getPixel(frames[2], x, y);
      const back = getPixel(decoded, x, y);
      for (let channel = 0; channel < 3; channel++) assert.ok(Math.abs(original[channel] - back[channel]) <= 16, `pixel (${x}, ${y}) ${original} vs ${back}`);
    }
    const lossless = await encodeAnimatedWebp(frames.slice(0, 2), { lossless: true, loop: 2 });
    assert.deepEqual((await decodeWebpFrame(lossless, 1)).data, frames[1].data, 'lossless frames are exact');
    const losslessAnim = webpChunks(lossless).find((chunk) => chunk.fourCC === 'ANIM');
    assert.ok(losslessAnim);
    assert.equal(lossless[losslessAnim.start + 4], 2);
    assert.equal(process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException'), handlersBefore, 'libwebp left no process-wide handlers');
  });
});

describe('animation frames', () => {
  const fixed = grayImage(100, 80, (column, row) => Math.sin(column / 9) + Math.cos(row / 7));
  const moving = grayImage(100, 80, (column, row) => Math.sin((column + 6) / 9) + Math.cos((row - 3) / 7));

  it('keeps the registration frame size fixed and writes the header', () => {
    const first = registrationFrame({ fixed, moving, iteration: 0, loss: 0.5, label: 'Adam' });
    const later = registrationFrame({ fixed, moving: fixed, iteration: 1234, loss: -0.98765, label: 'Adam', extraPanels: [] });
    assert.deepEqual([first.width, first.height], [later.width, later.height]);
    assert.ok(first.width >= 2 * 300, 'images scaled to about 300 pixels');
    assert.ok(pixelsOfColor(first, [255, 190, 60]).length > 20, 'label in the accent colour');
    assert.ok(pixelsOfColor(first, [255, 255, 255]).length > 50, 'iteration and loss in white');
    const withOverlay = registrationFrame({ fixed, moving, iteration: 3, loss: 0.1, scale: 1, extraPanels: ['overlay', 'difference'] });
    assert.ok(withOverlay.width >= 4 * 100);
    assert.equal(formatLoss(0.98123), '0.9812');
    assert.equal(formatLoss(1.5e-6), '1.500e-6');
  });

  it('compares runs side by side at a fixed size', () => {
    const runs = ['SGD', 'momentum', 'Adam'].map((label, index) => ({ label, moving, iteration: index * 10, loss: 1 / (index + 1) }));
    const frame = comparisonFrame(runs, fixed, { title: 'optimisers' });
    const again = comparisonFrame(runs.map((run) => ({ ...run, iteration: 99999, loss: -1e-7 })), fixed, { title: 'optimisers', display: 'overlay' });
    assert.deepEqual([frame.width, frame.height], [again.width, again.height]);
    assert.ok(frame.width >= 4 * 100);
    assert.ok(pixelsOfColor(frame, [255, 127, 14]).length > 10, 'second run marked in its plot colour');
    assert.throws(() => comparisonFrame([{ label: 'x', moving: grayImage(5, 5, () => 0), iteration: 0, loss: 0 }], fixed), /must match/);
  });
});
