/** Makes a value at its first use only: an AWS client a path may never need costs nothing. */
export const lazy = <T>(create: () => T): (() => T) => {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
};
