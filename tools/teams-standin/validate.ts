/**
 * Checks a Teams Workflows webhook message as the "Post card in a chat or channel" step would: the
 * envelope, then the Adaptive Card against the schema's required properties
 * (https://adaptivecards.io/explorer/ and https://adaptivecards.io/schemas/adaptive-card.json:
 * AdaptiveCard needs type and version; TextBlock text; FactSet facts, each with title and value;
 * Image url; Container/Column items; ColumnSet columns; Action.OpenUrl url; Action.Submit/ShowCard
 * none), and Teams' message size limit (about 28 KB). Returns the problems; none means valid.
 */

/** Teams refuses webhook messages past about 28 KB. */
export const teamsLimitBytes = 28 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

const required: Record<string, string[]> = {
  TextBlock: ['text'],
  RichTextBlock: ['inlines'],
  FactSet: ['facts'],
  Image: ['url'],
  ImageSet: ['images'],
  Container: ['items'],
  ColumnSet: [],
  ActionSet: ['actions'],
  'Action.OpenUrl': ['url'],
  'Action.Submit': [],
  'Action.ShowCard': [],
  'Action.ToggleVisibility': ['targetElements'],
  'Action.Execute': [],
};

export function validateTeamsMessage(raw: string): string[] {
  const problems: string[] = [];
  const size = Buffer.byteLength(raw);
  if (size > teamsLimitBytes) problems.push(`message is ${size} bytes, over Teams' ${teamsLimitBytes}`);
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return [...problems, 'body is not JSON'];
  }
  if (!isObj(message) || message.type !== 'message') return [...problems, 'type: expected "message"'];
  const attachments = message.attachments;
  if (!Array.isArray(attachments) || attachments.length === 0)
    return [...problems, 'attachments: expected at least one'];
  attachments.forEach((a, i) => {
    if (!isObj(a) || a.contentType !== 'application/vnd.microsoft.card.adaptive')
      problems.push(`attachments[${i}].contentType: expected application/vnd.microsoft.card.adaptive`);
    else checkCard(a.content, `attachments[${i}].content`, problems);
  });
  return problems;
}

function checkCard(card: unknown, path: string, problems: string[]): void {
  if (!isObj(card) || card.type !== 'AdaptiveCard') {
    problems.push(`${path}.type: expected "AdaptiveCard"`);
    return;
  }
  if (!isStr(card.version) || !/^\d+\.\d+$/.test(card.version))
    problems.push(`${path}.version: expected "1.x"`);
  if (card.body !== undefined) checkElements(card.body, `${path}.body`, problems);
  if (card.actions !== undefined) checkElements(card.actions, `${path}.actions`, problems);
}

function checkElements(list: unknown, path: string, problems: string[]): void {
  if (!Array.isArray(list)) {
    problems.push(`${path}: expected an array`);
    return;
  }
  list.forEach((e, i) => {
    checkElement(e, `${path}[${i}]`, problems);
  });
}

function checkElement(e: unknown, path: string, problems: string[]): void {
  if (!isObj(e) || !isStr(e.type)) {
    problems.push(`${path}.type: expected a string`);
    return;
  }
  const needs = required[e.type];
  if (needs === undefined) {
    problems.push(`${path}.type: unknown element "${e.type}"`);
    return;
  }
  for (const key of needs) if (e[key] === undefined) problems.push(`${path}.${key}: required`);
  if (e.type === 'TextBlock' && !isStr(e.text)) problems.push(`${path}.text: expected a string`);
  if (e.type === 'FactSet') {
    if (!Array.isArray(e.facts)) problems.push(`${path}.facts: expected an array`);
    else
      e.facts.forEach((f, j) => {
        if (!isObj(f) || !isStr(f.title) || !isStr(f.value))
          problems.push(`${path}.facts[${j}]: expected { title: string, value: string }`);
      });
  }
  if (e.type === 'Action.OpenUrl' && (!isStr(e.url) || !URL.canParse(e.url)))
    problems.push(`${path}.url: expected an absolute URL`);
  if (e.type === 'Container') checkElements(e.items, `${path}.items`, problems);
  if (e.type === 'ActionSet') checkElements(e.actions, `${path}.actions`, problems);
}
