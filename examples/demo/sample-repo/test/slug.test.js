import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slugify } from '../src/slug.js';

test('words are joined by single dashes', () => {
  assert.equal(slugify('Airlock demo'), 'airlock-demo');
  assert.equal(slugify('a  --  b'), 'a-b');
});

test('accents are dropped', () => {
  assert.equal(slugify('Déjà vu'), 'deja-vu');
});

test('no dash at either end (issue #1)', () => {
  assert.equal(slugify('Hello, World!'), 'hello-world');
  assert.equal(slugify('  (draft) notes  '), 'draft-notes');
});
