import { closeReason } from '../../../src/server/auth'

describe('closeReason', () => {
  it('keeps short reasons and cuts long ones to the 123 bytes a WebSocket close frame allows', () => {
    expect(closeReason('a READ key cannot run a mutation: it needs WRITE')).toBe(
      'a READ key cannot run a mutation: it needs WRITE',
    )
    for (const long of ['x'.repeat(500), 'é'.repeat(300), '🙂'.repeat(100)]) {
      const cut = closeReason(long)
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123)
      expect(cut.endsWith('...')).toBe(true)
      expect(long.startsWith(cut.slice(0, -3))).toBe(true)
      expect(Buffer.from(cut).toString()).toBe(cut) // no lone surrogate
    }
  })
})
