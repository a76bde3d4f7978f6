import middy from '@middy/core';

test('middy loads in ESM mode', async () => {
  const h = middy(async (e: { n: number }) => e.n + 1);
  expect(await h({ n: 1 }, {} as never)).toBe(2);
});
