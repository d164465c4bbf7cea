import { expect } from 'chai';
import { EVAL_ID_PATTERN, newEvalId } from '../../core/ids.js';
import { STATES, canMove, isTerminal } from '../../core/lifecycle.js';
import type { EvaluationState } from '../../core/lifecycle.js';
import { timestamp } from '../../handlers/views.js';

describe('newEvalId', () => {
  it('writes the UTC time of submission into the id', () => {
    const id = newEvalId(new Date('2024-07-01T12:00:00.500Z'));
    expect(id).to.match(/^eval_20240701_120000_[0-9a-f]{12}$/);
  });

  it('makes 100,000 distinct, URL-safe ids', () => {
    const ids = new Set(Array.from({ length: 100_000 }, () => newEvalId()));
    expect(ids.size).to.equal(100_000);
    for (const id of [...ids].slice(0, 1000)) expect(encodeURIComponent(id)).to.equal(id);
  });

  it('sorts by submission time across seconds', () => {
    const a = newEvalId(new Date('2024-07-01T23:59:59Z'));
    const b = newEvalId(new Date('2024-07-02T00:00:00Z'));
    expect([b, a].sort()).to.deep.equal([a, b]);
    expect(a).to.match(EVAL_ID_PATTERN);
  });

  it('writes the UTC time with two digits a field, 10 included', () => {
    expect(newEvalId(new Date('2024-10-10T10:09:10Z'))).to.match(/^eval_20241010_100910_/);
  });

  it('recognises a whole id only', () => {
    const id = newEvalId();
    expect(`x${id}`).to.not.match(EVAL_ID_PATTERN);
    expect(`${id}0`).to.not.match(EVAL_ID_PATTERN);
  });
});

describe('the evaluation state machine', () => {
  const allowed: Record<EvaluationState, EvaluationState[]> = {
    submitted: ['queued', 'failed', 'cancelled'],
    queued: ['provisioning', 'running', 'failed', 'cancelled'],
    provisioning: ['running', 'completed', 'queued', 'failed', 'cancelled'],
    running: ['completed', 'failed', 'cancelled', 'queued', 'provisioning'],
    completed: [],
    failed: [],
    cancelled: [],
  };
  for (const from of STATES) {
    for (const to of STATES) {
      const expected = allowed[from].includes(to);
      it(`${expected ? 'allows' : 'refuses'} ${from} → ${to}`, () => {
        expect(canMove(from, to)).to.equal(expected);
      });
    }
  }
  it('has exactly completed, failed and cancelled as terminal states', () => {
    expect(STATES.filter(isTerminal)).to.deep.equal(['completed', 'failed', 'cancelled']);
  });
});

describe('timestamp', () => {
  const cases: [string | null, string | null][] = [
    ['2024-07-01T12:00:00', '2024-07-01T12:00:00.000Z'],
    ['2024-07-01T12:00:00.123456', '2024-07-01T12:00:00.123Z'],
    ['2024-07-01T14:00:00+02:00', '2024-07-01T12:00:00.000Z'],
    ['2024-07-01T12:00:00Z', '2024-07-01T12:00:00.000Z'],
    ['yesterday', null],
    [null, null],
  ];
  for (const [input, output] of cases) {
    it(`reads ${String(input)} as ${String(output)}`, () =>
      expect(timestamp(input)).to.equal(output));
  }
});
