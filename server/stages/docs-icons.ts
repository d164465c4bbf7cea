import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The project's mark: a C on a square, as SVG (favicon, and ReDoc's menu logo). */
export const MARK_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#3b4b8c"/><path d="M11 5.2a4 4 0 1 0 0 5.6" stroke="#fff" stroke-width="2" fill="none"/></svg>';

/** The same mark as a 16×16 ICO (32-bit BMP inside), for clients that ask for /favicon.ico. */
export function markIco(): Buffer {
  const size = 16;
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      // BMP rows go bottom-up; a ring open to the right, white on the square's blue.
      const [dx, dy] = [x - 7.5, size - 1 - y - 7.5];
      const r = Math.hypot(dx, dy);
      const ring = r > 2.5 && r < 4.8 && !(dx > 1.5 && Math.abs(dy) < 2.5);
      const at = (y * size + x) * 4;
      pixels.set(ring ? [255, 255, 255, 255] : [0x8c, 0x4b, 0x3b, 255], at); // BGRA
    }
  const header = Buffer.alloc(6 + 16 + 40);
  header.writeUInt16LE(1, 2); // an icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size, 6);
  header.writeUInt8(size, 7);
  header.writeUInt16LE(1, 10); // planes
  header.writeUInt16LE(32, 12); // bits per pixel
  const mask = Buffer.alloc(size * 4); // all shown (1 bit a pixel, rows padded to 4 bytes)
  header.writeUInt32LE(40 + pixels.length + mask.length, 14);
  header.writeUInt32LE(22, 18); // where the image starts
  header.writeUInt32LE(40, 22); // BITMAPINFOHEADER
  header.writeInt32LE(size, 26);
  header.writeInt32LE(size * 2, 30); // image and mask
  header.writeUInt16LE(1, 34);
  header.writeUInt16LE(32, 36);
  return Buffer.concat([header, pixels, mask]);
}

const CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';

/**
 * ReDoc's standalone bundle with its menu logo taken from this gateway instead of Redocly's CDN:
 * the docs make no request beyond the gateway.
 */
export function localRedocBundle(): string {
  const bundle = readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'), 'utf8');
  if (!bundle.includes(CDN_LOGO)) return bundle;
  return bundle.replaceAll(CDN_LOGO, '/redoc/assets/logo.svg');
}
