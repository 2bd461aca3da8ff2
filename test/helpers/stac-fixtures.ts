/**
 * Small STAC documents for loader and attack tests: a whole-world Collection and a 1°×1° square Item at
 * longitude `x` (latitude 0–1), valid STAC 1.1.0 as written.
 */

/** A Collection `id` (open extent, proprietary); `extra` members are merged in. */
export const stacCollection = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'Collection',
  stac_version: '1.1.0',
  id,
  description: id,
  license: 'proprietary',
  links: [],
  extent: { spatial: { bbox: [[-180, -90, 180, 90]] }, temporal: { interval: [['2024-01-01T00:00:00Z', null]] } },
  ...extra,
});

/** An Item of collection `coll`: the square [x, x+1] × [0, 1], datetime 2024-03-01T10:00Z unless `props` says otherwise. */
export const stacItem = (coll: string, id: string, x: number, props: Record<string, unknown> = {}) => ({
  type: 'Feature',
  stac_version: '1.1.0',
  id,
  collection: coll,
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [x, 0],
        [x + 1, 0],
        [x + 1, 1],
        [x, 1],
        [x, 0],
      ],
    ],
  },
  bbox: [x, 0, x + 1, 1],
  properties: { datetime: '2024-03-01T10:00:00Z', ...props },
  links: [],
  assets: {},
});
