/**
 * A strict RFC 4180 reader for the tests (no CSV parser is installed): records end in CRLF, a field is
 * either quoted (quotes inside doubled, followed by a comma, CRLF or the end) or unquoted (no quote,
 * CR or LF). Anything else throws, so a writer that is only nearly right fails the test.
 * https://www.rfc-editor.org/rfc/rfc4180#section-2
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`CSV at ${i}: ${why} near ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`);
  };
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i];
        i++;
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') fail('quote inside an unquoted field');
        field += text[i];
        i++;
      }
    }
    record.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      i += 2;
      records.push(record);
      record = [];
      continue;
    }
    if (i >= text.length) fail('last record without CRLF');
    fail(`unexpected ${JSON.stringify(text[i])} after a field`);
  }
  if (record.length > 0) fail('trailing fields');
  return records;
}
