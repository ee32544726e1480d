/**
 * Recognising a component by its Pulumi type, so that a pure validator can check that it was
 * handed a Stack or a Hypervisor without loading the component's module (and with it
 * `@pulumi/pulumi`). Pure: no Pulumi.
 */

/**
 * True when `value` is a Pulumi resource constructed with type `type`: the type Pulumi
 * records on every resource (`pulumi.resourceType(resource)` reads the same field), so a
 * subclass counts and a look-alike plain object does not.
 */
export function isResourceOfType(value: unknown, type: string): boolean {
  if (typeof value !== "object" || value === null) return false;
  return (value as { __pulumiType?: unknown }).__pulumiType === type;
}
