/**
 * The one place that lists the model families. The platform asks for a family by name and talks to it only
 * through the {@link Family} interface; a new family is a folder under src/models and one line here.
 */
import type { Family } from './family'
import { ModelFamily } from './family.enums'
import { mlpFamily } from './mlp/family'
import { sequenceFamily } from './sequence/family'
import { vaeFamily } from './vae/family'

const FAMILIES: Readonly<Record<ModelFamily, Family>> = {
  [ModelFamily.MLP]: mlpFamily,
  [ModelFamily.VAE]: vaeFamily,
  [ModelFamily.SEQUENCE]: sequenceFamily,
}

export function familyOf(name: ModelFamily): Family {
  const family = FAMILIES[name]
  if (!family) throw new Error(`unknown model family ${String(name)}`)
  return family
}
