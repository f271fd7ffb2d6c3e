import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationTypes, type MetadataStorage, type ValidationArguments } from 'class-validator';

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/**
 * A fast path for validatePayload, compiled once per DTO class from class-validator's own
 * metadata, so the DTO decorators stay the single source of truth. It only ever accepts: it
 * returns the DTO instance when every rule passes, and undefined for anything else (a failing
 * rule, a value class-transformer would copy, a DTO using a feature compiled here is not
 * understood), after which the caller runs plainToInstance + validateSync as before, so error
 * messages come from class-validator alone.
 *
 * It reproduces, for the accepted case, plainToInstance(Dto, data) followed by
 * validateSync(dto, { whitelist: true, forbidUnknownValues: true }): `new Dto()`, then the
 * declared properties copied from `data` (undeclared ones would be stripped by whitelist), then
 * each property's rules in the executor's way: conditional rules (IsOptional) first, and when
 * they allow, every constraint's validate(value, args) must return true synchronously.
 */
export type FastValidator<T> = (data: object) => T | undefined;

type Check = (object: object, value: unknown) => boolean;

interface PropertyPlan {
  name: string;
  /** All must hold for the property's constraints to run (IsOptional). */
  conditions: Check[];
  constraints: Check[];
}

interface Plan {
  dtoClass: new () => object;
  properties: PropertyPlan[];
  declared: ReadonlySet<string>;
}

const compiled = new WeakMap<new () => object, FastValidator<object> | null>();

/** The compiled checker for `dtoClass`, or null when the DTO uses something it does not support. */
export function fastValidatorFor<T extends object>(dtoClass: new () => T): FastValidator<T> | null {
  let validator = compiled.get(dtoClass);
  if (validator === undefined) {
    validator = compile(dtoClass);
    compiled.set(dtoClass, validator);
  }
  return validator as FastValidator<T> | null;
}

function compile<T extends object>(dtoClass: new () => T): FastValidator<T> | null {
  if (hasTransformerMetadata(dtoClass)) return null;
  // The same selection the executor makes for validateSync without groups.
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(dtoClass, '', false, false, undefined);
  if (metadatas.length === 0) return null; // forbidUnknownValues: let validateSync report it
  const plans = new Map<string, PropertyPlan>();
  for (const metadata of metadatas) {
    const name = metadata.propertyName;
    // class-transformer skips `__proto__` and `constructor`, and keeps a prototype member over the plain value.
    if (name in dtoClass.prototype) return null;
    let plan = plans.get(name);
    if (!plan) plans.set(name, (plan = { name, conditions: [], constraints: [] }));
    if (!addRule(plan, metadata, dtoClass.name)) return null;
  }
  const declared = new Set(plans.keys());
  // whitelist also deletes own properties that the constructor creates without any rule.
  if (Object.keys(new dtoClass()).some((key) => !declared.has(key))) return null;
  const plan: Plan = { dtoClass, properties: [...plans.values()], declared };
  return (data) => {
    try {
      return build(plan, data) as T | undefined;
    } catch {
      return undefined; // a rule that throws: let the slow path throw it, or report what fails first
    }
  };
}

function addRule(plan: PropertyPlan, metadata: ValidationMetadata, targetName: string): boolean {
  if (metadata.each || metadata.validateIf || (metadata.groups?.length ?? 0) > 0) return false;
  switch (metadata.type) {
    case ValidationTypes.WHITELIST:
      return true;
    case ValidationTypes.CONDITIONAL_VALIDATION: {
      const condition = metadata.constraints?.[0] as Check | undefined;
      if (typeof condition !== 'function') return false;
      plan.conditions.push(condition);
      return true;
    }
    case ValidationTypes.CUSTOM_VALIDATION:
    case ValidationTypes.IS_DEFINED: {
      const constraints = getMetadataStorage().getTargetValidatorConstraints(metadata.constraintCls);
      if (constraints.length === 0 || constraints.some((c) => c.async)) return false;
      for (const constraint of constraints) {
        const instance = constraint.instance;
        plan.constraints.push((object, value) => {
          const args: ValidationArguments = {
            targetName,
            property: metadata.propertyName,
            object,
            value,
            constraints: metadata.constraints,
          };
          return instance.validate(value, args) === true;
        });
      }
      return true;
    }
    default:
      return false; // nested, promise or anything newer
  }
}

function build({ dtoClass, properties, declared }: Plan, data: object): object | undefined {
  const proto: unknown = Object.getPrototypeOf(data);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const dto = new dtoClass() as Record<string, unknown>;
  const source = data as Record<string, unknown>;
  // In the order plainToInstance copies them; whitelist would delete the undeclared ones.
  for (const key of Object.keys(source)) {
    if (!declared.has(key)) continue;
    const value = source[key];
    // class-transformer copies objects and arrays; only primitives are taken as they are.
    if (typeof value === 'object' && value !== null) return undefined;
    dto[key] = value;
  }
  for (const { name, conditions, constraints } of properties) {
    const value = dto[name];
    if (!conditions.every((condition) => condition(dto, value))) continue;
    if (!constraints.every((constraint) => constraint(dto, value))) return undefined;
  }
  return dto;
}

/** Any @Type, @Transform, @Expose or @Exclude on the class or an ancestor: plainToInstance must run. */
function hasTransformerMetadata(dtoClass: new () => object): boolean {
  const storage = defaultMetadataStorage as Record<string, unknown>;
  const maps = ['_typeMetadatas', '_transformMetadatas', '_exposeMetadatas', '_excludeMetadatas'].map((key) => storage[key]);
  // Unknown internals: assume the worst, every DTO takes the slow path.
  if (!maps.every((map) => map instanceof Map)) return true;
  for (let target: object = dtoClass; target !== Function.prototype; target = Object.getPrototypeOf(target) as object) {
    const ancestor = target;
    if (maps.some((map) => (map as Map<object, unknown>).has(ancestor))) return true;
  }
  return false;
}
