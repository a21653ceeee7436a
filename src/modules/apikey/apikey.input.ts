import { Field, InputType } from 'type-graphql'
import { ApiKeyScope } from './apikey.scope'

@InputType()
export class CreateApiKeyInput {
  @Field(() => String)
  name!: string

  @Field(() => ApiKeyScope)
  scope!: ApiKeyScope
}
