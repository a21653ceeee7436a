/**
 * Drops a Map's oldest entries (in insertion order) until it holds at most `max`, handing each dropped value to
 * `evicted`: the one eviction rule of the process's small caches (loaded models, valid documents).
 */
export function evictOldest<K, V>(map: Map<K, V>, max: number, evicted?: (value: V) => void): void {
  while (map.size > max) {
    const [key, value] = map.entries().next().value as [K, V]
    map.delete(key)
    evicted?.(value)
  }
}
