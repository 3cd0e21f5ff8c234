// A trial of bench/bundle-size.ts: how many bytes the indentation inside lit html`` templates costs.
import type { Plugin } from 'rollup';

/**
 * Rewrites the static text of every html`` template: each line break with the indentation around it
 * becomes one space (which HTML renders the same outside <pre> and `white-space: pre`, and the widget
 * has neither). Expressions are copied as they are, nested templates are recursed into. A small scanner
 * for the widget's own sources: it knows comments, quotes and templates, not regex literals.
 */
export function collapseHtmlWhitespace(code: string): string {
  let out = '';
  const isHtmlTag = (at: number) => /\bhtml\s*$/.test(code.slice(Math.max(0, at - 12), at));
  const stringEnd = (start: number): number => {
    const quote = code[start];
    let j = start + 1;
    while (j < code.length && code[j] !== quote) j += code[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  const template = (start: number, isHtml: boolean): number => {
    let j = start + 1;
    let text = '';
    out += '`';
    const flush = () => {
      out += isHtml ? text.replace(/[ \t]*\n\s*/g, ' ') : text;
      text = '';
    };
    while (j < code.length) {
      const c = code[j];
      if (c === '\\') {
        text += code.slice(j, j + 2);
        j += 2;
      } else if (c === '`') {
        flush();
        out += '`';
        return j + 1;
      } else if (c === '$' && code[j + 1] === '{') {
        flush();
        out += '${';
        j = expression(j + 2);
      } else {
        text += c;
        j++;
      }
    }
    throw new Error('unterminated template literal');
  };
  const expression = (start: number): number => {
    let depth = 1;
    let j = start;
    while (j < code.length) {
      const c = code[j];
      if (c === '`') {
        j = template(j, isHtmlTag(j));
      } else if (c === '"' || c === "'") {
        const end = stringEnd(j);
        out += code.slice(j, end);
        j = end;
      } else {
        if (c === '{') depth++;
        if (c === '}' && --depth === 0) {
          out += '}';
          return j + 1;
        }
        out += c;
        j++;
      }
    }
    throw new Error('unterminated ${ in a template literal');
  };
  let i = 0;
  while (i < code.length) {
    const c = code[i];
    if (c === '/' && (code[i + 1] === '/' || code[i + 1] === '*')) {
      const line = code[i + 1] === '/';
      const close = line ? code.indexOf('\n', i) : code.indexOf('*/', i + 2);
      const stop = close < 0 ? code.length : line ? close : close + 2;
      out += code.slice(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const end = stringEnd(i);
      out += code.slice(i, end);
      i = end;
    } else if (c === '`') {
      i = template(i, isHtmlTag(i));
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The rollup plugin of the trial: applies `collapseHtmlWhitespace` to the widget's TypeScript sources. */
export function collapseHtmlWhitespacePlugin(): Plugin {
  return {
    name: 'collapse-html-whitespace',
    transform(code, id) {
      if (!id.includes('/packages/widget/src/') || !id.endsWith('.ts') || !code.includes('html`'))
        return null;
      return { code: collapseHtmlWhitespace(code), map: null };
    },
  };
}
