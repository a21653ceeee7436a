import type { ContainerType } from 'type-graphql'

/**
 * type-graphql asks this for resolver instances. The composition root (src/app.ts) constructs every
 * resolver with its services and registers it here; nothing is created implicitly.
 */
export class ResolverContainer implements ContainerType {
  private readonly instances = new Map<Function, object>()

  register(...instances: object[]): this {
    for (const instance of instances) this.instances.set(instance.constructor, instance)
    return this
  }

  get(someClass: Function): object {
    const instance = this.instances.get(someClass)
    if (!instance) throw new Error(`resolver ${someClass.name} was not registered`)
    return instance
  }
}
