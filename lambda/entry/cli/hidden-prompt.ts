import type { ReadStream } from 'node:tty';

/** Thrown when the user presses Ctrl-C at a prompt. */
export class PromptCancelled extends Error {
  override readonly name = 'PromptCancelled';
  constructor() {
    super('cancelled at the prompt');
  }
}

/**
 * Asks for a secret on the terminal without echoing it: the terminal is put in raw mode
 * (so it prints nothing typed) and only the prompt and a newline are written, to stderr.
 * Backspace edits, Enter ends, Ctrl-C cancels, Ctrl-D ends the input.
 */
export const promptHidden = (question: string, input: ReadStream = process.stdin as ReadStream): Promise<string> =>
  new Promise((resolve, reject) => {
    // Echo goes off before the prompt shows: text typed (or pasted) as soon as the prompt
    // appears would otherwise be echoed by the terminal (the test caught exactly that).
    input.setRawMode(true);
    process.stderr.write(question);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const done = (err?: Error): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\u0003') return done(new PromptCancelled());
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
