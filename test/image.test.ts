import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode as decodePngBytes, encode as encodePngBytes } from 'fast-png';
import { decode as decodeTiffBytes } from 'tiff';
import { DrrkitError } from '../src/errors.js';
import { writeFileAtomic } from '../src/io/files.js';
import {
  checkImageExtension,
  decodeImage,
  encodeFloatTiff,
  encodeFloatTiffStack,
  encodePng,
  encodeRgbaPng,
  readImage,
  writeImage,
  type Image2D,
} from '../src/io/image.js';

/** A width × height image whose pixel values come from `valueAt(row, column)`. */
function makeImage(width: number, height: number, valueAt: (row: number, column: number) => number): Image2D {
  const data = new Float32Array(width * height);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) data[row * width + column] = valueAt(row, column);
  }
  return { data, height, width };
}

/** A non-square float image with negative, tiny, huge and non-finite values. */
function awkwardFloatImage(): Image2D {
  const image = makeImage(7, 5, (row, column) => Math.fround(Math.sin(row * 7 + column) * 1e3 - 0.001 * column));
  image.data[0] = -0;
  image.data[1] = 1e-38;
  image.data[2] = 3.4e38;
  image.data[3] = Infinity;
  image.data[4] = -Infinity;
  image.data[5] = NaN;
  return image;
}

/** Asserts float arrays equal value by value (NaN equals NaN, -0 equals -0). */
function assertSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  assert.equal(actual.length, expected.length);
  for (let index = 0; index < expected.length; index++) {
    assert.ok(Object.is(actual[index], expected[index]), `value ${index}: ${actual[index]} ≠ ${expected[index]}`);
  }
}

/** Asserts that `error` is a DrrkitError whose message starts with `subject` and matches `problem`. */
function assertDrrkitError(error: unknown, subject: string, problem: RegExp): true {
  assert.ok(error instanceof DrrkitError, `expected a DrrkitError, got ${String(error)}`);
  assert.ok(error.message.startsWith(subject), `message should start with ${subject}: ${error.message}`);
  assert.match(error.message, problem);
  return true;
}

/** A minimal hand-built baseline TIFF with integer samples, for testing the decoder. */
function buildIntegerTiff(width: number, height: number, bitsPerSample: 8 | 16, samples: readonly number[], littleEndian: boolean): Uint8Array {
  const entries: [number, number, number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, bitsPerSample],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0], // patched below
    [277, 3, 1],
    [278, 4, height],
    [279, 4, width * height * (bitsPerSample / 8)],
  ];
  const ifdOffset = 8;
  const dataOffset = ifdOffset + 2 + entries.length * 12 + 4;
  entries[5][2] = dataOffset;
  const file = new Uint8Array(dataOffset + width * height * (bitsPerSample / 8));
  const view = new DataView(file.buffer);
  file.set(littleEndian ? [0x49, 0x49, 0x2a, 0] : [0x4d, 0x4d, 0, 0x2a], 0);
  view.setUint32(4, ifdOffset, littleEndian);
  view.setUint16(ifdOffset, entries.length, littleEndian);
  entries.forEach(([tag, type, value], index) => {
    const at = ifdOffset + 2 + index * 12;
    view.setUint16(at, tag, littleEndian);
    view.setUint16(at + 2, type, littleEndian);
    view.setUint32(at + 4, 1, littleEndian);
    if (type === 3) view.setUint16(at + 8, value, littleEndian);
    else view.setUint32(at + 8, value, littleEndian);
  });
  samples.forEach((value, index) => {
    if (bitsPerSample === 8) view.setUint8(dataOffset + index, value);
    else view.setUint16(dataOffset + 2 * index, value, littleEndian);
  });
  return file;
}

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'drrkit-image-test-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('float32 TIFF', () => {
  test('round trip is exact with decodeImage', () => {
    const image = awkwardFloatImage();
    const back = decodeImage(encodeFloatTiff(image), 'image.tif');
    assert.equal(back.width, image.width);
    assert.equal(back.height, image.height);
    assertSameValues(back.data, image.data);
  });

  test('round trip is exact with the tiff package', () => {
    const image = awkwardFloatImage();
    const [page, ...rest] = decodeTiffBytes(encodeFloatTiff(image));
    assert.equal(rest.length, 0);
    assert.equal(page.width, 7);
    assert.equal(page.height, 5);
    assert.equal(page.bitsPerSample, 32);
    assert.equal(page.sampleFormat, 3);
    assert.equal(page.samplesPerPixel, 1);
    assert.equal(page.compression, 1);
    assert.equal(page.type, 1, 'BlackIsZero');
    assert.equal(page.planarConfiguration, 1);
    assert.ok(page.data instanceof Float32Array);
    assertSameValues(page.data, image.data);
  });

  test('the file is a strict baseline TIFF (checked byte by byte)', () => {
    const image = makeImage(3, 2, (row, column) => row * 10 + column + 0.5);
    const bytes = encodeFloatTiff(image);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x49, 0x49, 0x2a, 0x00]);
    const ifd = view.getUint32(4, true);
    assert.equal(ifd % 2, 0, 'IFD on a word boundary');
    const count = view.getUint16(ifd, true);
    const tags = new Map<number, { type: number; count: number; value: number }>();
    let previous = 0;
    for (let index = 0; index < count; index++) {
      const at = ifd + 2 + index * 12;
      const tag = view.getUint16(at, true);
      assert.ok(tag > previous, 'tags in ascending order');
      previous = tag;
      const type = view.getUint16(at + 2, true);
      tags.set(tag, { type, count: view.getUint32(at + 4, true), value: type === 3 ? view.getUint16(at + 8, true) : view.getUint32(at + 8, true) });
    }
    assert.equal(view.getUint32(ifd + 2 + count * 12, true), 0, 'single page');
    const value = (tag: number): number => tags.get(tag)?.value ?? Number.NaN;
    assert.equal(value(256), 3);
    assert.equal(value(257), 2);
    assert.equal(value(258), 32);
    assert.equal(value(259), 1);
    assert.equal(value(262), 1);
    assert.equal(value(277), 1);
    assert.equal(value(278), 2);
    assert.equal(value(279), 24);
    assert.equal(value(284), 1);
    assert.equal(value(296), 1);
    assert.equal(value(339), 3);
    for (const tag of [282, 283]) {
      const entry = tags.get(tag);
      assert.equal(entry?.type, 5, 'resolution is a RATIONAL');
      assert.equal(view.getUint32(entry!.value, true) / view.getUint32(entry!.value + 4, true), 1);
    }
    const stripOffset = value(273);
    assert.equal(stripOffset % 4, 0, 'pixel data aligned');
    const pixels = Array.from({ length: 6 }, (_, index) => view.getFloat32(stripOffset + 4 * index, true));
    assert.deepEqual(pixels, Array.from(image.data));
    assert.equal(stripOffset + 24 <= bytes.length, true);
  });

  test('a multi-page stack: one IFD per image, decodeImage reads the first page', () => {
    const images = [0, 1, 2].map((page) => makeImage(4 + page, 3, (row, column) => page * 100 + row * 10 + column - 0.25));
    const bytes = encodeFloatTiffStack(images);
    const pages = decodeTiffBytes(bytes);
    assert.equal(pages.length, 3);
    pages.forEach((page, index) => {
      assert.equal(page.width, images[index].width);
      assertSameValues(page.data, images[index].data);
    });
    assertSameValues(decodeImage(bytes, 'stack.tif').data, images[0].data);
  });

  test('8- and 16-bit integer TIFFs in both byte orders decode to their values', () => {
    for (const littleEndian of [true, false]) {
      const eight = decodeImage(buildIntegerTiff(3, 2, 8, [0, 1, 2, 253, 254, 255], littleEndian), 'eight.tif');
      assert.deepEqual(Array.from(eight.data), [0, 1, 2, 253, 254, 255]);
      const sixteen = decodeImage(buildIntegerTiff(2, 2, 16, [0, 256, 4095, 65535], littleEndian), 'sixteen.tif');
      assert.deepEqual(Array.from(sixteen.data), [0, 256, 4095, 65535]);
      assert.equal(sixteen.width, 2);
    }
  });

  test('a truncated TIFF gives a DrrkitError', () => {
    const bytes = encodeFloatTiff(makeImage(16, 16, (row, column) => row + column));
    assert.throws(() => decodeImage(bytes.subarray(0, 100), 'cut.tif'), (error) => assertDrrkitError(error, 'cut.tif', /TIFF/));
  });
});

describe('PNG', () => {
  test('8-bit round trip of 0..255 values with the window [0, 255]', () => {
    const image = makeImage(16, 16, (row, column) => row * 16 + column);
    const back = decodeImage(encodePng(image, { min: 0, max: 255 }), 'ramp.png');
    assert.equal(back.width, 16);
    assert.equal(back.height, 16);
    assertSameValues(back.data, image.data);
  });

  test('the default window maps the finite min..max onto 0..255', () => {
    const image = makeImage(5, 1, (_, column) => -1 + column * 0.5); // -1, -0.5, 0, 0.5, 1
    image.data[4] = NaN;
    image.data[3] = Infinity;
    const png = decodePngBytes(encodePng(image));
    assert.equal(png.depth, 8);
    assert.equal(png.channels, 1);
    // finite range is [-1, 0]: -1 → 0, -0.5 → 128, 0 → 255; +∞ clamps to 255; NaN → 0
    assert.deepEqual(Array.from(png.data), [0, 128, 255, 255, 0]);
  });

  test('explicit window clamps outside values', () => {
    const image = makeImage(4, 1, (_, column) => [-100, 10, 20, 500][column]);
    const png = decodePngBytes(encodePng(image, { min: 10, max: 20 }));
    assert.deepEqual(Array.from(png.data), [0, 0, 255, 255]);
  });

  test('a constant image gives all zeros, no NaN', () => {
    const png = decodePngBytes(encodePng(makeImage(3, 3, () => 42)));
    assert.deepEqual(Array.from(png.data), new Array(9).fill(0));
    const allNaN = decodePngBytes(encodePng(makeImage(2, 2, () => NaN)));
    assert.deepEqual(Array.from(allNaN.data), [0, 0, 0, 0]);
  });

  test('RGBA PNG encodes colour; decodeImage gives Rec. 601 luminance', () => {
    const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 200, 200, 200, 128]);
    const bytes = encodeRgbaPng(rgba, 2, 2);
    const png = decodePngBytes(bytes);
    assert.equal(png.channels, 4);
    assert.deepEqual(Array.from(png.data), Array.from(rgba));
    const gray = decodeImage(bytes, 'colour.png');
    const expected = [0.299 * 255, 0.587 * 255, 0.114 * 255, 200].map(Math.fround);
    gray.data.forEach((value, index) => assert.ok(Math.abs(value - expected[index]) < 1e-3, `pixel ${index}`));
    assert.throws(() => encodeRgbaPng(rgba, 3, 2), DrrkitError);
  });

  test('16-bit gray and gray + alpha PNGs keep their raw values', () => {
    const sixteen = encodePngBytes({ width: 3, height: 1, data: Uint16Array.from([0, 1000, 65535]), depth: 16, channels: 1 });
    assert.deepEqual(Array.from(decodeImage(sixteen, 'sixteen.png').data), [0, 1000, 65535]);
    const grayAlpha = encodePngBytes({ width: 2, height: 1, data: Uint8Array.from([10, 255, 20, 0]), depth: 8, channels: 2 });
    assert.deepEqual(Array.from(decodeImage(grayAlpha, 'ga.png').data), [10, 20]);
  });

  test('a truncated PNG gives a DrrkitError', () => {
    const bytes = encodePng(makeImage(32, 32, (row, column) => row ^ column));
    assert.throws(() => decodeImage(bytes.subarray(0, bytes.length - 20), 'cut.png'), (error) => assertDrrkitError(error, 'cut.png', /PNG/));
  });
});

describe('readImage / writeImage', () => {
  test('.tif, .tiff and .TIF are float32 exact; missing folders are created', async () => {
    const image = awkwardFloatImage();
    for (const name of ['a/b/out.tif', 'out.tiff', 'OUT.TIF']) {
      const path = join(scratch, 'formats', name);
      await writeImage(path, image);
      assertSameValues((await readImage(path)).data, image.data);
    }
  });

  test('.png is 8-bit windowed', async () => {
    const path = join(scratch, 'formats', 'out.png');
    await writeImage(path, makeImage(3, 1, (_, column) => column * 10), { min: 0, max: 20 });
    assert.deepEqual(Array.from((await readImage(path)).data), [0, 128, 255]);
  });

  test('an unknown extension names the path and the accepted extensions', async () => {
    const path = join(scratch, 'out.jpg');
    await assert.rejects(writeImage(path, makeImage(2, 2, () => 1)), (error) =>
      assertDrrkitError(error, path, /\.jpg.*\.png.*\.tif\/\.tiff/),
    );
    assert.equal(existsSync(path), false);
    assert.equal(checkImageExtension('drr.TIFF'), '.tiff');
    assert.equal(checkImageExtension('some.dir/drr.png'), '.png');
    assert.throws(() => checkImageExtension('some.dir/drr'), (error) => assertDrrkitError(error, 'some.dir/drr', /extension \(none\)/));
  });

  test('decodeImage accepts an ArrayBuffer', () => {
    const bytes = encodeFloatTiff(makeImage(2, 2, (row, column) => row - column));
    const buffer: ArrayBuffer = new Uint8Array(bytes).buffer;
    assert.deepEqual(Array.from(decodeImage(buffer, 'buffer.tif').data), [0, -1, 1, 0]);
  });

  test('reading a missing file, or a file that is no image', async () => {
    const missing = join(scratch, 'missing.png');
    await assert.rejects(readImage(missing), (error) => assertDrrkitError(error, missing, /not found/));
    const text = join(scratch, 'text.png');
    await writeFile(text, 'not an image');
    await assert.rejects(readImage(text), (error) => assertDrrkitError(error, text, /not a PNG or TIFF/));
  });
});

describe('atomic writes', () => {
  test('a failed write leaves no file, and keeps an existing one intact', async () => {
    const folder = join(scratch, 'atomic');
    await mkdir(folder, { recursive: true });
    const bad: Image2D = { data: new Float32Array(5), height: 2, width: 3 }; // 5 values for 6 pixels
    const fresh = join(folder, 'fresh.tif');
    await assert.rejects(writeImage(fresh, bad), (error) => assertDrrkitError(error, fresh, /needs 6/));
    assert.equal(existsSync(fresh), false);

    const existing = join(folder, 'existing.png');
    await writeFile(existing, 'old content');
    await assert.rejects(writeImage(existing, bad), DrrkitError);
    assert.equal(await readFile(existing, 'utf8'), 'old content');
    assert.deepEqual((await readdir(folder)).sort(), ['existing.png']);
  });

  test('when the rename fails the temporary file is removed', async () => {
    const folder = join(scratch, 'atomic-rename');
    const target = join(folder, 'target.tif');
    await mkdir(target, { recursive: true }); // a directory where the file should go
    await assert.rejects(writeFileAtomic(target, new Uint8Array(10)), (error) => assertDrrkitError(error, target, /cannot write/));
    assert.deepEqual(await readdir(folder), ['target.tif']);
    assert.deepEqual(await readdir(target), []);
  });

  test('a parent path that is a file is reported', async () => {
    const blocker = join(scratch, 'blocker');
    await writeFile(blocker, 'x');
    const target = join(blocker, 'out.png');
    await assert.rejects(writeImage(target, makeImage(1, 1, () => 0)), (error) => assertDrrkitError(error, target, /folder/));
  });

  test('writeFileAtomic writes the bytes and replaces an existing file', async () => {
    const path = join(scratch, 'atomic-ok', 'data.bin');
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    await writeFileAtomic(path, Uint8Array.from([4, 5]));
    assert.deepEqual(Array.from(await readFile(path)), [4, 5]);
    assert.deepEqual(await readdir(join(scratch, 'atomic-ok')), ['data.bin']);
  });
});
