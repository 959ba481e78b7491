/** Colour for a terminal, or none: every renderer takes a Style, so tests can pass `plainStyle`. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
}

const identity = (text: string) => text;

export const plainStyle: Style = { bold: identity, dim: identity, red: identity, yellow: identity, green: identity, cyan: identity };

/** A Style with colour when `color` is true (chalk is loaded only then). */
export async function makeStyle(color: boolean): Promise<Style> {
  if (!color) return plainStyle;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { bold: c.bold, dim: c.dim, red: c.red, yellow: c.yellow, green: c.green, cyan: c.cyan };
}
