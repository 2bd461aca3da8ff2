/** The demo catalog's collections, inserted on a demo first start (the catalog issue grows this into full demo data). */
import type { CollectionRecord } from '../storage/types.js';

/** Collections of a fictional sun-synchronous thermal constellation, open to every organization. */
export function demoCollections(now: number): CollectionRecord[] {
  return [
    {
      id: 'skyport-lst',
      access: 'open',
      ownerOrgId: null,
      updatedAt: now,
      body: {
        type: 'Collection',
        stac_version: '1.0.0',
        id: 'skyport-lst',
        title: 'Skyport demo land-surface temperature (thermal infrared, 70 m)',
        description: 'Land-surface temperature derived from thermal-infrared imagery of the Skyport demo constellation.',
        license: 'CC-BY-4.0',
        keywords: ['thermal', 'land surface temperature', 'demo'],
        extent: {
          spatial: { bbox: [[-180, -82, 180, 82]] },
          temporal: { interval: [['2024-01-01T00:00:00Z', null]] },
        },
        summaries: { gsd: [70], platform: ['skyport-1', 'skyport-2'], instruments: ['tir'] },
        links: [],
      },
    },
  ];
}
