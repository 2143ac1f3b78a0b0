/**
 * Turns a title into a URL slug: lower case, ASCII letters and digits, words joined by "-".
 *
 *   slugify('Hello, World!') === 'hello-world'
 */
export function slugify(title) {
  return String(title)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // drop the accents NFKD split off: "é" → "e"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
}
