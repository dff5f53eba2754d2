#!/usr/bin/env bash
# The guide "Grant a Resource Action to an Identity with REST"
# (spec/authorization-guide-grant-resource-action.txt), its calls verbatim, against a
# running platform: grant Alice the action `update-reset-mfa` on `user-identity`
# (reset any user's MFA), then verify the grant.
#
#   GATEWAY                 the gateway's base URL (default http://127.0.0.1:8080;
#                           MOPENV=x gives https://gateway.x as in the guide)
#   NETFOUNDRY_API_TOKEN    a bearer token; default: one for the bootstrap super admin
#                           from CREDENTIALS (default ./data/bootstrap-credentials.json)
#   ALICE_EMAIL             whose account to grant to (the guide selects by email);
#   ACCOUNT                 or the account id itself; default: the first identity listed
#
# Needs HTTPie (`pip install httpie`) and jq. Exits non-zero when a step fails.
set -euo pipefail

for tool in http jq; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is required (HTTPie: pip install httpie)" >&2; exit 2; }
done

if [[ -n "${MOPENV:-}" && -z "${GATEWAY:-}" ]]; then
  GATEWAY="https://gateway.${MOPENV}"
fi
GATEWAY="${GATEWAY:-http://127.0.0.1:8080}"
GATEWAY="${GATEWAY%/}"
HTTP=(http --ignore-stdin --check-status --timeout=30)

if [[ -z "${NETFOUNDRY_API_TOKEN:-}" ]]; then
  CREDENTIALS="${CREDENTIALS:-./data/bootstrap-credentials.json}"
  CLIENT_ID=$(jq -r .clientId "$CREDENTIALS")
  PASSWORD=$(jq -r .password "$CREDENTIALS")
  AUTHENTICATION_URL=$(jq -r .authenticationUrl "$CREDENTIALS")
  NETFOUNDRY_API_TOKEN=$("${HTTP[@]}" --form -a "${CLIENT_ID}:${PASSWORD}" POST "$AUTHENTICATION_URL" \
    grant_type=client_credentials | jq -r .access_token)
fi

# 1. Find the ID of the account to grant the resource action to.
if [[ -z "${ACCOUNT:-}" ]]; then
  if [[ -n "${ALICE_EMAIL:-}" ]]; then
    # The list answers one page (100 by default): filter by email on the server.
    ACCOUNT=$("${HTTP[@]}" GET "${GATEWAY}/identity/v1/identities" \
      "Authorization: Bearer ${NETFOUNDRY_API_TOKEN}" "email==${ALICE_EMAIL}" \
    | jq -r --arg email "$ALICE_EMAIL" '.[]|select(.email == $email)|.id')
  else
    ACCOUNT=$("${HTTP[@]}" GET "${GATEWAY}/identity/v1/identities" \
      "Authorization: Bearer ${NETFOUNDRY_API_TOKEN}" \
    | jq -r 'first(.[]|.id)')
  fi
fi
[[ -n "$ACCOUNT" && "$ACCOUNT" != null ]] || { echo "step 1: no such account" >&2; exit 1; }
echo "ACCOUNT=${ACCOUNT}"

# 2. Find the ID of the resource type (code user-identity).
RESOURCE_TYPE=$("${HTTP[@]}" GET "${GATEWAY}/auth/v1/resource-types" \
  "Authorization: Bearer ${NETFOUNDRY_API_TOKEN}" \
| jq -r '.[]|select(.code == "user-identity")|.id')
[[ -n "$RESOURCE_TYPE" ]] || { echo "step 2: no resource type user-identity" >&2; exit 1; }
echo "RESOURCE_TYPE=${RESOURCE_TYPE}"

# 3. Find the ID of the resource action (code update-reset-mfa).
RESOURCE_ACTION=$("${HTTP[@]}" GET "${GATEWAY}/auth/v1/resource-actions?resourceTypeId=${RESOURCE_TYPE}" \
  "Authorization: Bearer ${NETFOUNDRY_API_TOKEN}" \
| jq -r '.[]|select(.code == "update-reset-mfa")|.id')
[[ -n "$RESOURCE_ACTION" ]] || { echo "step 3: no resource action update-reset-mfa" >&2; exit 1; }
echo "RESOURCE_ACTION=${RESOURCE_ACTION}"

# 4. Grant the action to the identity (path=[]: the whole organization). A second
#    run finds it granted already (409) and goes on.
set +e
http --ignore-stdin --check-status --timeout=30 POST "${GATEWAY}/auth/v1/identity-resource-actions" \
  "Authorization: Bearer ${NETFOUNDRY_API_TOKEN}" \
  identityId="${ACCOUNT}" \
  resourceActionId="${RESOURCE_ACTION}" \
  path:='[]'
rc=$?
set -e
case $rc in
  0) ;;
  4) echo "step 4: not granted now (already granted, or refused); verifying" >&2 ;;
  *) echo "step 4 failed (exit $rc)" >&2; exit 1 ;;
esac

# 5. Verify the action is now granted.
GRANTS=$("${HTTP[@]}" GET "${GATEWAY}/auth/v1/grants?resourceActionId=${RESOURCE_ACTION}&identityId=${ACCOUNT}" \
  "Authorization: Bearer ${NETFOUNDRY_API_TOKEN}")
echo "$GRANTS" | jq .
[[ $(echo "$GRANTS" | jq 'length') -ge 1 ]] || { echo "step 5: the grant is not there" >&2; exit 1; }
echo "granted update-reset-mfa on user-identity to ${ACCOUNT}"
