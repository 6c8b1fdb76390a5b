import { InvalidArgumentError } from 'commander';

/** A commander parser for a whole number within [min, max], naming the option when it is not. */
export const intIn =
  (name: string, min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };

/** The parser of every command's --concurrency (1-64). */
export const concurrency = intIn('--concurrency', 1, 64);
