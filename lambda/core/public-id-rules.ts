/**
 * Cloudinary's naming rules for a public_id given to the Upload API. Source: Cloudinary docs,
 * "Permitted naming conventions" (cloudinary.com/documentation/ts_permitted_naming_conventions,
 * same text as support article 115001317409): "Length: between 1 and 255 characters";
 * "`?&#\%<>+` are utterly forbidden"; "Shouldn't begin nor end with whitespace or forward-slash
 * (those will be omitted as well)"; "You can't use 'v' followed by numeric characters as the name
 * of a folder". Users quote the refusal as "public_id (...) is invalid" (paperclip-cloudinary
 * issues #7, a `#`, and #10, a leading slash).
 *
 * A backed-up asset can carry a name these rules refuse (assets created before a rule changed: the
 * page warns "These requirements may change from time to time"). Uploading it again would be
 * refused, or stored under a trimmed name: restore reports it instead and renames nothing.
 */

/** The characters the page calls "utterly forbidden". */
export const FORBIDDEN_PUBLIC_ID_CHARS = ['?', '&', '#', '\\', '%', '<', '>', '+'] as const;

/** Longest public_id, in characters (Unicode code points). */
export const MAX_PUBLIC_ID_CHARS = 255;

const FORBIDDEN = /[?&#\\%<>+]/u;

/**
 * The naming rule a public_id breaks, as a phrase for a report line, or undefined when Cloudinary
 * keeps the name as given. Pure; one rule named (the first that applies).
 */
export const publicIdRuleBroken = (publicId: string): string | undefined => {
  const length = [...publicId].length;
  if (length < 1) return 'a public_id must have 1 to 255 characters (it is empty)';
  if (length > MAX_PUBLIC_ID_CHARS) return `a public_id must have 1 to 255 characters (it has ${length})`;
  const bad = FORBIDDEN.exec(publicId);
  if (bad) return `a public_id may not contain ${FORBIDDEN_PUBLIC_ID_CHARS.join(' ')} (it contains ${JSON.stringify(bad[0])})`;
  if (/^[\s/]|[\s/]$/u.test(publicId)) return 'a public_id may not begin or end with whitespace or "/" (Cloudinary would trim it and store another name)';
  const folder = publicId.split('/').slice(0, -1).find((seg) => /^v\d+$/.test(seg));
  if (folder !== undefined) return `a folder may not be named "v" followed by digits (the public_id has the folder "${folder}")`;
  return undefined;
};
