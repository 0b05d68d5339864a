// The name of the built-in default image, apart from default-image.ts (which makes it, with tar), so that listing
// images or containers does not load tar (issue 15).
export const DEFAULT_IMAGE = 'localhost/busybox:latest';
