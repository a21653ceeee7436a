import { Field, ID, ObjectType, registerEnumType } from 'type-graphql'
import { ApiKeyScope } from './apikey.scope'

registerEnumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  description: 'READ: queries and subscriptions; WRITE: also every mutation; ADMIN: also API keys.',
  valuesConfig: {
    READ: { description: 'Queries and subscriptions.' },
    WRITE: { description: 'READ plus every mutation on datasets, runs and sweeps.' },
    ADMIN: { description: 'WRITE plus creating, listing and revoking API keys.' },
  },
})

@ObjectType({ description: 'An API key as stored: never its secret.' })
export class ApiKey {
  @Field(() => ID)
  id!: string

  @Field(() => String)
  name!: string

  @Field(() => ApiKeyScope)
  scope!: ApiKeyScope

  @Field(() => String, { description: "The secret's first characters, to tell keys apart; not a secret." })
  prefix!: string

  @Field(() => Date)
  createdAt!: Date

  @Field(() => Date, { nullable: true, description: 'Recorded at most once a minute.' })
  lastUsedAt!: Date | null

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null
}

@ObjectType({ description: 'A new key with its secret, shown this once: only its hash is stored.' })
export class CreatedApiKey {
  @Field(() => ID)
  id!: string

  @Field(() => String)
  name!: string

  @Field(() => ApiKeyScope)
  scope!: ApiKeyScope

  @Field(() => String, { description: 'Send it as `Authorization: Bearer <key>`.' })
  key!: string
}

@ObjectType({ description: 'Who is asking: what the key this request was made with may do.' })
export class Viewer {
  @Field(() => Boolean, {
    description: 'False when the server runs without API keys (everything is allowed).',
  })
  authRequired!: boolean

  @Field(() => ApiKeyScope, { description: "The key's scope; ADMIN when the server runs without keys." })
  scope!: ApiKeyScope

  @Field(() => String, { nullable: true, description: "The key's name; null without keys." })
  keyName!: string | null
}
