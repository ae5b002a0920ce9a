// The field checks event bodies are made of, at the log boundary (events.ts and each
// capability's own kinds): each names the first problem of one field, or undefined.

export type Validator = (body: Record<string, unknown>) => string | undefined;

export const maxText = 10 * 1024 * 1024;

export function text(field: string, { optional = false, max = maxText } = {}): Validator {
  return (body) => {
    const value = body[field];
    if (value === undefined && optional) {
      return undefined;
    }
    if (typeof value !== 'string') {
      return `"${field}" must be a string`;
    }
    if (value.length > max) {
      return `"${field}" is longer than ${max} characters`;
    }
    return undefined;
  };
}

export function flag(field: string): Validator {
  return (body) => (body[field] === undefined || typeof body[field] === 'boolean' ? undefined : `"${field}" must be true or false`);
}

export function nonEmpty(field: string): Validator {
  return (body) => {
    const value = body[field];
    return typeof value === 'string' && value.trim() === '' ? `"${field}" must not be empty` : undefined;
  };
}

export function wholeNumber(field: string): Validator {
  return (body) => (Number.isSafeInteger(body[field]) && (body[field] as number) >= 0 ? undefined : `"${field}" must be a whole number`);
}

export function optionalWholeNumber(field: string): Validator {
  return (body) => (body[field] === undefined ? undefined : wholeNumber(field)(body));
}

export function digest(field: string): Validator {
  return (body) => (typeof body[field] === 'string' && /^[0-9a-f]{64}$/.test(body[field]) ? undefined : `"${field}" must be a SHA-256 digest (64 lowercase hex digits)`);
}

export function nullableDigest(field: string): Validator {
  return (body) => (body[field] === null ? undefined : digest(field)(body));
}

export function nullableText(field: string): Validator {
  return (body) => (body[field] === null || (typeof body[field] === 'string' && body[field].length <= 200) ? undefined : `"${field}" must be a string or null`);
}

export function errorInfo(field: string): Validator {
  return (body) => {
    const value = body[field];
    if (!isRecord(value)) {
      return `"${field}" must be an object`;
    }
    const problem = text('kind', { max: 100 })(value) ?? text('message', { max: 10_000 })(value) ?? text('action', { max: 10_000 })(value) ?? nullableText('requestId')(value);
    if (problem) {
      return `"${field}": ${problem}`;
    }
    return value.status === null || Number.isSafeInteger(value.status) ? undefined : `"${field}": "status" must be a whole number or null`;
  };
}

export function object(field: string): Validator {
  return (body) => (isRecord(body[field]) ? undefined : `"${field}" must be an object`);
}

export function positive(field: string): Validator {
  return (body) => (body[field] === undefined || (Number.isSafeInteger(body[field]) && (body[field] as number) > 0) ? undefined : `"${field}" must be a positive whole number`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
