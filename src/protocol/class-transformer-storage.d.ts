// class-transformer keeps its decorator metadata in a module it does not export from its
// index; compiled-validator.ts only asks it whether a DTO has any.
declare module 'class-transformer/cjs/storage' {
  export const defaultMetadataStorage: unknown;
}
