import { dictionary } from "@zxcvbn-ts/language-common";

export const MIN_PASSWORD_LENGTH = 10;

/**
 * Passwords people pick first, from zxcvbn's list of leaked passwords (49k), plus the ones common
 * on Chinese sites that the list lacks. Only entries long enough to pass the length rule matter.
 */
const COMMON = new Set(
  [
    ...dictionary["passwords-common"],
    "woaini1314",
    "woaini520",
    "5201314520",
    "1314520520",
    "a123456789",
    "qq123456789",
    "aa123456789",
    "abc1234567",
    "abcd123456",
    "admin12345",
    "admin123456",
    "password12",
    "dropdesk123",
    "dropdesk2026",
  ]
    .filter((p) => p.length >= MIN_PASSWORD_LENGTH)
    .map((p) => p.toLowerCase()),
);

/** Why a new password is refused, in words for the person choosing it; null when it is fine. */
export function passwordProblem(password: string, who: { email?: string } = {}): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return "this password is among the most common ones; choose another";
  if (new Set(lower).size <= 2) return "too repetitive; choose another";
  const local = who.email?.split("@")[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) return "must not contain your email name";
  return null;
}
