// A test file that passes 100 tests, then keeps its process alive with a server it never closes.
import { createServer } from 'node:net';
import { it } from 'node:test';

for (let index = 0; index < 100; index += 1) it(`passes ${index}`, () => {});
it('opens a server and leaves it open', () => {
  createServer().listen(0, '127.0.0.1');
});
