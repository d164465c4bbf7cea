import { expect } from 'chai';
import { TrafficSplit, stickyPoint } from '../../core/traffic-split.js';
import { canonicalJson } from '../../core/idempotency.js';

describe('TrafficSplit', () => {
  it('sends everything to the legacy queue when the job queue is disabled', () => {
    const split = new TrafficSplit({ enabled: false, percentage: 1, random: () => 0 });
    expect(split.choose()).to.equal('legacy');
    expect(split.order()).to.deep.equal(['legacy']);
  });

  const cases: [number, number, 'legacy' | 'bull'][] = [
    [0, 0, 'legacy'],
    [1, 0.999999, 'bull'],
    [0.3, 0.29, 'bull'],
    [0.3, 0.3, 'legacy'],
    [0.5, 0.7, 'legacy'],
  ];
  for (const [percentage, draw, expected] of cases) {
    it(`at ${percentage} sends a draw of ${draw} to ${expected}, the other as fallback`, () => {
      const split = new TrafficSplit({ enabled: true, percentage, random: () => draw });
      expect(split.choose()).to.equal(expected);
      expect(split.order()).to.deep.equal(
        expected === 'bull' ? ['bull', 'legacy'] : ['legacy', 'bull'],
      );
    });
  }

  it('sends a sticky key to the same backend every time, and spreads keys by the share', () => {
    const split = new TrafficSplit({ enabled: true, percentage: 0.3, random: () => 0 });
    for (const key of ['alice', 'bob', 'tenant-42']) {
      const first = split.choose(key);
      for (let i = 0; i < 5; i++) expect(split.choose(key)).to.equal(first);
    }
    const bull = Array.from({ length: 10_000 }, (_, i) => split.choose(`client-${i}`)).filter(
      (b) => b === 'bull',
    ).length;
    expect(bull / 10_000).to.be.within(0.28, 0.32);
  });

  it('maps keys into [0, 1)', () => {
    for (const k of ['', 'a', 'é', 'x'.repeat(1000)])
      expect(stickyPoint(k)).to.be.within(0, 0.9999999999);
  });
});

describe('canonicalJson', () => {
  it('is the same for the same value whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).to.equal(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ a: 1, b: undefined })).to.equal('{"a":1}');
    expect(canonicalJson({ a: '1' })).not.to.equal(canonicalJson({ a: 1 }));
  });
});
