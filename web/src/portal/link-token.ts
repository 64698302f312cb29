import { setPortalToken } from "../api";

/**
 * A message to the customer links to the portal with a token for their order in the address's
 * fragment (`#t=ddp_…`, never sent to a server): take it as the portal session, then drop it from
 * the address so it is not bookmarked or shared by accident.
 */
export function takeLinkToken() {
  const m = /#t=(ddp_[A-Za-z0-9_\-.]+)/.exec(window.location.hash);
  if (!m) return;
  setPortalToken(m[1]);
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
}
