// skiff's own version, as its front doors report it (skiff-runtime features, skiffd's CRI Version).
export const SKIFF_VERSION = '0.1.0';
