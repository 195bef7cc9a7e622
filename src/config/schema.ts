/**
 * The rules file's schema: the single source of truth for what config/listing-notifier.yaml may say.
 * The JSON Schema for editors (schema/listing-notifier.schema.json) is generated from it
 * (scripts/gen-schema.ts), and the loader (./index.ts) reports its issues with path and value.
 *
 * Every option has a default (described next to it), so an empty file is a working config: the
 * defaults reproduce the worked example in config/listing-notifier.yaml.
 */
import { z } from 'zod';
import { deliverySchema, httpSchema, slackSchema, sourceSchema, storeSchema } from './service.ts';

/** A decimal written as a YAML number (1.5) or string ("1.50"); kept as a canonical decimal string. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const decimal = (what: string) =>
  z
    .union([z.number(), z.string().regex(DECIMAL, `expected a decimal number such as "1.50" (${what})`)])
    .transform((v) => String(v));

const nonNegativeDecimal = (what: string) =>
  decimal(what).refine((v) => !v.startsWith('-'), { message: `expected a number >= 0 (${what})` });

const columnName = z.string().min(1).max(128).describe('Column name exactly as Debezium sends it.');

const label = z
  .string()
  .min(1)
  .max(60)
  .optional()
  .describe('Human name shown in messages. Default: the field key with a capital first letter.');

const moneyField = z
  .strictObject({
    kind: z.literal('money'),
    column: columnName,
    label,
    currencyColumn: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Column holding the ISO 4217 currency code of this row. Default: null (use `currency`).'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "USD"')
      .default('USD')
      .describe('Currency when there is no currency column or the row has none. Default: "USD".'),
    decimalScale: z
      .int()
      .min(0)
      .max(100)
      .nullable()
      .default(null)
      .describe(
        'Scale of the NUMERIC column (NUMERIC(12,2): 2), for records that do not carry it: a topic written ' +
          'without schemas (precise Decimals arrive as bare base64 bytes) and decimal.handling.mode string or ' +
          'double. Default: null (such values are read as they come; bare bytes cannot be read).',
      ),
    minPercent: nonNegativeDecimal('percent')
      .nullable()
      .default(null)
      .describe(
        'Notify when the amount moved by at least this many percent. Default: null (no percent rule).',
      ),
    minAmount: nonNegativeDecimal('amount')
      .nullable()
      .default(null)
      .describe(
        'Notify when the amount moved by at least this much (in the row currency). Either rule is enough; ' +
          'with neither set every change notifies. Default: null.',
      ),
  })
  .describe('An exact decimal amount; shown with its currency symbol and a signed % change.');

const codeTransition = z.strictObject({
  from: z.array(z.string()).min(1).optional().describe('Codes before the change. Default: any code.'),
  to: z.array(z.string()).min(1).optional().describe('Codes after the change. Default: any code.'),
});

const codeField = z
  .strictObject({
    kind: z.literal('code'),
    column: columnName,
    label,
    codes: z
      .record(z.string(), z.string().min(1).max(60))
      .default({})
      .describe('Code -> word shown to people. Unknown codes are shown as they are. Default: {}.'),
    transitions: z
      .array(codeTransition)
      .default([])
      .describe('Only these from -> to transitions notify. Default: [] (every change notifies).'),
  })
  .describe('A status-like code, translated to words.');

const quantityField = z
  .strictObject({
    kind: z.literal('quantity'),
    column: columnName,
    label,
    lowBelow: z
      .int()
      .nullable()
      .default(null)
      .describe(
        'Stock is low below this number: notify when it falls below it ("low"). Default: null ' +
          '(no threshold: every change notifies as "increased"/"decreased").',
      ),
    hysteresis: z
      .int()
      .min(0)
      .default(0)
      .describe(
        'Notify "recovered" only when the quantity climbs back to lowBelow + hysteresis, so a stock ' +
          'wobbling around the threshold does not flap. Without a store (store.url null) this is decided ' +
          'from one event\'s before and after alone: 5 -> 4 is "low", 4 -> 6 nothing, 6 -> 4 "low" again ' +
          '(each crossing of the low mark). With a store (store.alertMemory), the last alert per listing ' +
          'is kept and "low" is not announced again until "recovered" was. Default: 0.',
      ),
  })
  .describe('A whole quantity such as stock.');

const textField = z
  .strictObject({
    kind: z.literal('text'),
    column: columnName,
    label,
    show: z
      .enum(['word-diff', 'excerpt'])
      .default('word-diff')
      .describe(
        '"word-diff": the changed words with a little context; "excerpt": the new text, cut short. Default: "word-diff".',
      ),
    excerptLength: z
      .int()
      .min(20)
      .max(1000)
      .default(160)
      .describe('Characters of text shown per side. Default: 160.'),
    ignoreWhitespace: z
      .boolean()
      .default(true)
      .describe('A change in spaces or line breaks only does not notify. Default: true.'),
  })
  .describe('Long text such as a description.');

const timestampField = z
  .strictObject({
    kind: z.literal('timestamp'),
    column: columnName,
    label,
  })
  .describe('An instant, shown in `timeZone`.');

export const fieldSchema = z.discriminatedUnion('kind', [
  moneyField,
  codeField,
  quantityField,
  textField,
  timestampField,
]);

export type FieldConfig = z.infer<typeof fieldSchema>;
export type FieldKind = FieldConfig['kind'];

/** What the significance filter can say about a change; rules match on these. */
export const conditions = [
  'increased',
  'decreased',
  'changed',
  'low',
  'recovered',
  'created',
  'deleted',
] as const;
export type Condition = (typeof conditions)[number];

export const ops = ['create', 'update', 'delete'] as const;

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((v): z.output<T>[] => (Array.isArray(v) ? v : [v]));

const ruleSchema = z.strictObject({
  name: z.string().min(1).max(80).optional().describe('Shown in logs and reasons. Default: "rule N".'),
  match: z
    .strictObject({
      field: oneOrMany(z.string()).optional().describe('Field key(s) from `fields`. Default: any field.'),
      condition: oneOrMany(z.enum(conditions)).optional().describe('Condition(s). Default: any condition.'),
      op: oneOrMany(z.enum(ops)).optional().describe('Debezium operation(s). Default: any.'),
      from: oneOrMany(z.string()).optional().describe('Code field: code(s) before. Default: any.'),
      to: oneOrMany(z.string()).optional().describe('Code field: code(s) after. Default: any.'),
    })
    .default({})
    .describe('Every criterion given must hold. Default: {} (matches every significant change).'),
  channels: oneOrMany(z.string()).describe('Channel key(s) from `channels`; one message each.'),
  priority: z
    .enum(['normal', 'urgent'])
    .default('normal')
    .describe(
      'urgent: its messages go ahead of normal ones in the channel and are never folded into a digest. ' +
        'Default: "normal".',
    ),
  update: z
    .enum(['in-place', 'new'])
    .optional()
    .describe(
      "in-place: a listing's next message from this rule in the same Slack channel, within " +
        'delivery.updates.windowMs, edits its earlier message (chat.update) instead of posting again; new: ' +
        "always a new message, even in a channel listed in delivery.updates.channels. Default: the channel's.",
    ),
  throttle: z
    .strictObject({
      perListing: z
        .int()
        .min(1)
        .max(1000)
        .describe('Messages of its own a listing may get from this rule per channel within `windowMs`.'),
      windowMs: z
        .int()
        .min(1000)
        .max(7 * 24 * 3_600_000)
        .default(3_600_000)
        .describe('The sliding window the messages are counted over. Default: 3600000 (1 h).'),
    })
    .optional()
    .describe(
      "Per-listing throttle: past `perListing` messages of its own in a channel within `windowMs`, a listing's " +
        "further normal changes from this rule go into the channel's next digest, so one flapping listing " +
        'cannot take a channel. Urgent changes are never throttled. A change several rules send to the ' +
        'same channel is throttled only when every one of them has a throttle and is past it. Needs ' +
        'delivery.flood.enabled; counted per replica (a listing stays on one partition). Default: none.',
    ),
});
export type RuleConfig = z.infer<typeof ruleSchema>;

/** A Slack channel id (C0123ABCD) or a channel name with or without "#". */
const slackChannel = z
  .string()
  .regex(/^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/, 'expected a Slack channel id or #channel-name');

/** URLs and signing secrets are secrets: the config names the environment variable, never the value. */
const envName = (what: string) =>
  z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name such as TEAMS_WEBHOOK_SALES')
    .describe(`Name of the environment variable holding ${what} (never the value itself).`);

/**
 * A channel: a Slack channel as a string (as before), or an object naming its destination type.
 * Each becomes one string, the channel identifier the pipeline routes by and delivery paces by:
 * Slack's channel as it is, "teams:<URL_ENV>", "webhook:<URL_ENV>:<SECRET_ENV>". The identifier names
 * everything the routing destination (src/adapters/destinations.ts) needs besides the environment, so
 * a rules reload that adds a destination needs no other table; variable names are not secrets.
 */
const channelTarget = z
  .union([
    slackChannel,
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('slack'), channel: slackChannel }).describe('A Slack channel.'),
      z
        .strictObject({ type: z.literal('teams'), urlEnv: envName('the Workflows webhook URL') })
        .describe(
          'A Microsoft Teams Workflows webhook ("When a Teams webhook request is received" -> "Post card in ' +
            'a chat or channel"); messages arrive as Adaptive Cards.',
        ),
      z
        .strictObject({
          type: z.literal('webhook'),
          urlEnv: envName('the receiver URL'),
          secretEnv: envName('the Standard Webhooks signing secret (whsec_<base64>)'),
        })
        .describe('An HTTPS endpoint receiving the change as JSON, signed by the Standard Webhooks scheme.'),
    ]),
  ])
  .transform((c): string => {
    if (typeof c === 'string') return c;
    if (c.type === 'slack') return c.channel;
    return c.type === 'teams' ? `teams:${c.urlEnv}` : `webhook:${c.urlEnv}:${c.secretEnv}`;
  });

const defaultFields = {
  price: {
    kind: 'money',
    column: 'prc_amt',
    label: 'Price',
    currencyColumn: 'crncy_cd',
    currency: 'USD',
    decimalScale: 2,
    minPercent: '1',
    minAmount: null,
  },
  status: {
    kind: 'code',
    column: 'LST_STAT_CD',
    label: 'Status',
    codes: { A: 'Active', U: 'Unpublished', D: 'Draft', S: 'Sold out' },
    transitions: [],
  },
  stock: { kind: 'quantity', column: 'prod_stk_qty', label: 'Stock', lowBelow: 5, hysteresis: 3 },
  description: {
    kind: 'text',
    column: 'description',
    label: 'Description',
    show: 'word-diff',
    excerptLength: 160,
    ignoreWhitespace: true,
  },
} satisfies Record<string, FieldConfig>;

const defaultChannels = {
  'sales-alerts': '#sales-alerts',
  'inventory-warnings': '#inventory-warnings',
  'support-heads-up': '#support-heads-up',
  'marketing-updates': '#marketing-updates',
};

const defaultRules: RuleConfig[] = [
  { name: 'price moved', match: { field: ['price'] }, channels: ['sales-alerts'], priority: 'normal' },
  {
    name: 'stock low or recovered',
    match: { field: ['stock'], condition: ['low', 'recovered'] },
    channels: ['inventory-warnings'],
    priority: 'normal',
  },
  {
    // Went offline: was live (active or sold out), now unpublished or back to draft.
    name: 'unpublished',
    match: { field: ['status'], from: ['A', 'S'], to: ['U', 'D'] },
    channels: ['support-heads-up', 'marketing-updates'],
    priority: 'urgent',
  },
  {
    name: 'sold out',
    match: { field: ['status'], from: ['A'], to: ['S'] },
    channels: ['inventory-warnings'],
    priority: 'normal',
  },
  {
    name: 'deleted',
    match: { condition: ['deleted'] },
    channels: ['support-heads-up', 'marketing-updates'],
    priority: 'urgent',
  },
];

export const configSchema = z
  .strictObject({
    timeZone: z
      .string()
      .min(1)
      .default('UTC')
      .describe('IANA time zone for times in messages. Default: "UTC".'),
    locale: z
      .string()
      .min(2)
      .default('en-US')
      .describe('BCP 47 locale for numbers and money (the currency comes from the row). Default: "en-US".'),
    listingUrlTemplate: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .default('https://shop.example.com/listings/{id}')
      .describe(
        '"View listing" link; {id} is replaced by the URL-encoded listing id. Default: "https://shop.example.com/listings/{id}".',
      ),
    listing: z
      .strictObject({
        titleColumn: z
          .string()
          .min(1)
          .nullable()
          .default('lst_ttl')
          .describe('Column naming the listing in message headers. Default: "lst_ttl".'),
      })
      .default({ titleColumn: 'lst_ttl' })
      .describe('How a listing is named.'),
    fields: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case key such as "price"'),
        fieldSchema,
      )
      .default(() => structuredClone(defaultFields))
      .describe(
        'The columns that notify, by key. Changes to other columns never notify. Default: price, status, ' +
          'stock, description (as in the example file). Giving `fields` replaces the default set.',
      ),
    channels: z
      .record(z.string().min(1), channelTarget)
      .default(() => ({ ...defaultChannels }))
      .describe(
        'Channel key -> a Slack channel id or #name, or { type: slack | teams | webhook, ... }. Default: the ' +
          'four seed channels (Slack).',
      ),
    rules: z
      .array(ruleSchema)
      .default(() => structuredClone(defaultRules))
      .describe(
        'Rules in order; a change goes to the channels of every rule it matches. Default: the seed rules.',
      ),
    unmatched: z
      .discriminatedUnion('action', [
        z.strictObject({ action: z.literal('drop') }),
        z.strictObject({ action: z.literal('send'), channel: z.string().min(1).describe('Channel key.') }),
      ])
      .default({ action: 'drop' })
      .describe(
        'Significant changes no rule matches: drop them (with a reason) or send them to one channel. Default: drop.',
      ),
    previousUnknown: z
      .enum(['notify', 'drop'])
      .default('notify')
      .describe(
        'Updates without a before image (REPLICA IDENTITY DEFAULT) cannot say what changed. "notify": judge ' +
          'each field by its new value alone and say "previous value unknown"; "drop": drop them. Default: "notify".',
      ),
    source: sourceSchema,
    slack: slackSchema,
    delivery: deliverySchema,
    store: storeSchema,
    http: httpSchema,
  })
  .superRefine((config, ctx) => crossCheck(config, ctx));

type ParsedShape = z.output<typeof configSchema>;

/** Checks that need more than one key: references between sections, IANA zone, locale, URL template. */
function crossCheck(config: ParsedShape, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string, input: unknown) =>
    ctx.addIssue({ code: 'custom', path, message, input });

  if (!isTimeZone(config.timeZone)) issue(['timeZone'], 'unknown IANA time zone', config.timeZone);
  if (!isLocale(config.locale)) issue(['locale'], 'not a valid BCP 47 locale', config.locale);
  if (!config.listingUrlTemplate.includes('{id}'))
    issue(['listingUrlTemplate'], 'must contain {id}', config.listingUrlTemplate);

  const fieldKeys = Object.keys(config.fields);
  const channelKeys = Object.keys(config.channels);
  const oneOf = (keys: string[]) =>
    keys.length === 0 ? 'none defined' : `expected one of ${keys.join(', ')}`;

  for (const [key, field] of Object.entries(config.fields)) {
    if (field.kind !== 'code' || Object.keys(field.codes).length === 0) continue;
    const known = Object.keys(field.codes);
    field.transitions.forEach((t, i) => {
      for (const side of ['from', 'to'] as const)
        t[side]?.forEach((code, j) => {
          if (!known.includes(code))
            issue(['fields', key, 'transitions', i, side, j], `unknown code, ${oneOf(known)}`, code);
        });
    });
  }

  for (const key of Object.keys(config.delivery.flood.channels)) {
    if (!channelKeys.includes(key)) {
      issue(['delivery', 'flood', 'channels', key], `unknown channel, ${oneOf(channelKeys)}`, key);
    }
  }
  const slackKeys = channelKeys.filter((k) => /^(teams|webhook):/.test(config.channels[k] ?? '') === false);
  config.delivery.updates.channels.forEach((key, i) => {
    if (!channelKeys.includes(key))
      issue(['delivery', 'updates', 'channels', i], `unknown channel, ${oneOf(channelKeys)}`, key);
    else if (!slackKeys.includes(key))
      issue(['delivery', 'updates', 'channels', i], 'only Slack messages can be edited in place', key);
  });
  config.rules.forEach((rule, i) => {
    const matched = (rule.match.field ?? []).map((f, j) => ({ f, j }));
    for (const { f, j } of matched) {
      if (!fieldKeys.includes(f))
        issue(['rules', i, 'match', 'field', j], `unknown field, ${oneOf(fieldKeys)}`, f);
    }
    if (rule.match.from !== undefined || rule.match.to !== undefined) {
      const codeFields = matched.map(({ f }) => config.fields[f]).filter((f) => f !== undefined);
      if (codeFields.length === 0 || codeFields.some((f) => f.kind !== 'code'))
        issue(['rules', i, 'match'], 'from/to need `field` naming code fields only', rule.match.field);
    }
    rule.channels.forEach((c, j) => {
      if (!channelKeys.includes(c))
        issue(['rules', i, 'channels', j], `unknown channel, ${oneOf(channelKeys)}`, c);
    });
  });

  if (config.unmatched.action === 'send' && !channelKeys.includes(config.unmatched.channel))
    issue(['unmatched', 'channel'], `unknown channel, ${oneOf(channelKeys)}`, config.unmatched.channel);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isLocale(locale: string): boolean {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}
