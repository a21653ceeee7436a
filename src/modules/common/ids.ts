const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** IDs are UUIDs; anything else cannot name a row, so callers answer "not found" without asking the database. */
export const isId = (value: string): boolean => UUID.test(value)
