import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { checkPayload } from '../../../src/pipeline/block-limits.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { LATE_PREFIX, lateLine, markLate } from '../../../src/pipeline/late.ts';
import { dec, makeUpdate } from '../../support/events.ts';

const config = parseConfig('', 'empty.yaml');
const ORIGINAL = Date.UTC(2026, 10, 20, 9, 30, 0);
const REDRIVEN = Date.UTC(2026, 10, 26, 14, 0, 5);

function rendered() {
  const outcome = decide(makeUpdate({ prc_amt: dec('17.99') }, { prc_amt: dec('19.99') }), config);
  if (outcome.kind !== 'notify') throw new Error(`expected notify, got ${outcome.reason}`);
  const [message] = outcome.messages;
  if (message === undefined) throw new Error('no message');
  return message.payload;
}

describe('markLate', () => {
  it('puts the late line under the header and prefixes the text', () => {
    const payload = rendered();
    const marked = markLate(payload, { originalMs: ORIGINAL, redrivenAtMs: REDRIVEN, timeZone: 'UTC' });
    expect(marked.text).toBe(`${LATE_PREFIX}${payload.text}`);
    expect(marked.blocks[0]).toEqual(payload.blocks[0]);
    expect(marked.blocks[1]).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: ':warning: Late delivery (redriven 2026-11-26 14:00:05 UTC): changed at 2026-11-20 09:30:00 UTC',
        },
      ],
    });
    expect(marked.blocks.slice(2)).toEqual(payload.blocks.slice(1));
    expect(checkPayload(marked, { forbidMarkup: true })).toEqual([]);
    // Pure: the input is untouched.
    expect(payload.text.startsWith(LATE_PREFIX)).toBe(false);
  });

  it('writes the times in the configured zone and says when the original time is unknown', () => {
    expect(lateLine({ originalMs: ORIGINAL, redrivenAtMs: REDRIVEN, timeZone: 'Europe/Berlin' })).toBe(
      'Late delivery (redriven 2026-11-26 15:00:05 GMT+1): changed at 2026-11-20 10:30:00 GMT+1',
    );
    expect(lateLine({ originalMs: null, redrivenAtMs: REDRIVEN, timeZone: 'UTC' })).toBe(
      'Late delivery (redriven 2026-11-26 14:00:05 UTC): changed at an unknown time',
    );
  });

  it('marks a payload without a header at the top', () => {
    const marked = markLate(
      { text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }] },
      { originalMs: ORIGINAL, redrivenAtMs: REDRIVEN, timeZone: 'UTC' },
    );
    expect(marked.blocks.map((b) => b.type)).toEqual(['context', 'section']);
  });
});
