#!/usr/bin/env bash
# The official e-invoice rule sets the tests validate every invoice against:
#   - the OASIS UBL 2.1 XSDs (com.helger.ubl:ph-ubl21 carries them; the schemas they import -
#     CCTS, XML-DSig, XAdES - are in com.helger.xsd:ph-xsds-*, and ph-ubl21 names them by
#     namespace only, so their schemaLocation is written back in, as OASIS ships them),
#   - the CEN EN 16931 UBL Schematron, compiled to XSLT 2.0 (com.helger.phive.rules:phive-rules-en16931),
#   - the OpenPeppol BIS Billing 3.0 Schematron, compiled to XSLT 2.0 (phive-rules-peppol).
#
# Why: the rules are published on Maven Central as jars and machines here reach Maven Central but
# not the rule sets' own sites. They are fetched with Maven (into Maven's local repository, like
# kafka.sh's jars), and the few files the tests need are unpacked under <var>/einvoice-rules,
# never copied into the repository.
#
# Usage: deploy/local/einvoice-rules.sh fetch   # fetch once (idempotent) and print the directory
#        deploy/local/einvoice-rules.sh dir     # print the directory (fails if not fetched yet)
# Env: EINVOICE_RULES_VERSION (phive-rules, 4.2.3: EN 16931 1.3.15, Peppol 2025.11),
#      EINVOICE_UBL_VERSION (ph-ubl21, 9.0.3), EINVOICE_XSDS_VERSION (ph-xsds-*, 3.0.0),
#      BRIDGES_VAR_DIR (<repo>/var), JAVA_HOME.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VAR_DIR="${BRIDGES_VAR_DIR:-$REPO_ROOT/var}"
case "$VAR_DIR" in /*) ;; *) VAR_DIR="$PWD/$VAR_DIR" ;; esac
RULES_VERSION="${EINVOICE_RULES_VERSION:-4.2.3}"
UBL_VERSION="${EINVOICE_UBL_VERSION:-9.0.3}"
XSDS_VERSION="${EINVOICE_XSDS_VERSION:-3.0.0}"
EN16931_RELEASE="1.3.15"
PEPPOL_RELEASE="2025.11"
DIR="$VAR_DIR/einvoice-rules/phive-$RULES_VERSION-ubl-$UBL_VERSION-xsds-$XSDS_VERSION"

say() { printf '%s\n' "$*" >&2; }
die() { printf 'einvoice-rules: error: %s\n' "$*" >&2; exit 1; }

fetch() {
  [[ -f "$DIR/.complete" ]] && return 0
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: Maven is needed once to fetch the rule sets (apt-get install -y maven)"
  command -v unzip >/dev/null 2>&1 || die "unzip not found (apt-get install -y unzip)"
  mkdir -p "$DIR"
  if command -v flock >/dev/null 2>&1; then   # one fetch at a time (parallel test sessions)
    exec 8>"$DIR/.fetch.lock"
    flock -w 600 8 || die "could not take $DIR/.fetch.lock"
    [[ -f "$DIR/.complete" ]] && { exec 8>&-; return 0; }
  fi
  local jars="$DIR/jars.tmp.$$" unpacked="$DIR/rules.tmp.$$" mlog="$DIR/mvn.log" artifact
  rm -rf "$jars" "$unpacked"
  say "einvoice-rules: fetching phive-rules $RULES_VERSION and ph-ubl21 $UBL_VERSION from Maven Central (once)"
  for artifact in \
    "com.helger.phive.rules:phive-rules-en16931:$RULES_VERSION:jar" \
    "com.helger.phive.rules:phive-rules-peppol:$RULES_VERSION:jar" \
    "com.helger.ubl:ph-ubl21:$UBL_VERSION:jar" \
    "com.helger.xsd:ph-xsds-ccts-cct-schemamodule:$XSDS_VERSION:jar" \
    "com.helger.xsd:ph-xsds-xmldsig:$XSDS_VERSION:jar" \
    "com.helger.xsd:ph-xsds-xades132:$XSDS_VERSION:jar" \
    "com.helger.xsd:ph-xsds-xades141:$XSDS_VERSION:jar"; do
    (cd "$DIR" && mvn -B -q dependency:copy -Dartifact="$artifact" -DoutputDirectory="$jars" \
      >"$mlog" 2>&1) || die "could not fetch $artifact (see $mlog)"
  done
  mkdir -p "$unpacked/xsd" "$unpacked/schematron"
  unzip -q -o "$jars/ph-ubl21-$UBL_VERSION.jar" 'external/schemas/ubl21/*' -d "$unpacked/jar"
  mv "$unpacked/jar/external/schemas/ubl21/common" "$unpacked/jar/external/schemas/ubl21/maindoc" \
    "$unpacked/xsd/"
  local jar ns file
  for jar in ccts-cct-schemamodule xmldsig xades132 xades141; do
    unzip -q -o "$jars/ph-xsds-$jar-$XSDS_VERSION.jar" 'schemas/*.xsd' -d "$unpacked/jar/$jar"
    mv "$unpacked/jar/$jar/schemas/"*.xsd "$unpacked/xsd/common/"
  done
  while read -r ns file; do
    sed -i "s|<xsd:import namespace=\"$ns\" */>|<xsd:import namespace=\"$ns\" schemaLocation=\"$file\"/>|" \
      "$unpacked/xsd/common/"*.xsd
  done <<'IMPORTS'
urn:un:unece:uncefact:data:specification:CoreComponentTypeSchemaModule:2 CCTS_CCT_SchemaModule.xsd
http://www.w3.org/2000/09/xmldsig# xmldsig-core-schema.xsd
http://uri.etsi.org/01903/v1.3.2# XAdES01903v132-201601.xsd
http://uri.etsi.org/01903/v1.4.1# XAdES01903v141-201601.xsd
IMPORTS
  unzip -q -o "$jars/phive-rules-en16931-$RULES_VERSION.jar" \
    "external/schematron/$EN16931_RELEASE/ubl/EN16931-UBL-validation.xslt" -d "$unpacked/jar"
  unzip -q -o "$jars/phive-rules-peppol-$RULES_VERSION.jar" \
    "external/schematron/openpeppol/$PEPPOL_RELEASE/xslt/PEPPOL-EN16931-UBL.xslt" -d "$unpacked/jar"
  mv "$unpacked/jar/external/schematron/$EN16931_RELEASE/ubl/EN16931-UBL-validation.xslt" \
    "$unpacked/schematron/EN16931-UBL-validation.xslt"
  mv "$unpacked/jar/external/schematron/openpeppol/$PEPPOL_RELEASE/xslt/PEPPOL-EN16931-UBL.xslt" \
    "$unpacked/schematron/PEPPOL-EN16931-UBL.xslt"
  rm -rf "$unpacked/jar" "$jars"
  [[ -f "$unpacked/xsd/maindoc/UBL-Invoice-2.1.xsd" ]] || die "UBL-Invoice-2.1.xsd missing from ph-ubl21"
  rm -rf "${DIR:?}/xsd" "${DIR:?}/schematron"
  mv "$unpacked/xsd" "$unpacked/schematron" "$DIR/"
  rmdir "$unpacked"
  printf 'EN 16931 %s (UBL), Peppol BIS Billing 3.0 %s, UBL 2.1 (ph-ubl21 %s, ph-xsds %s)\n' \
    "$EN16931_RELEASE" "$PEPPOL_RELEASE" "$UBL_VERSION" "$XSDS_VERSION" >"$DIR/.complete"
  say "einvoice-rules: $(cat "$DIR/.complete") in $DIR"
  exec 8>&- 2>/dev/null || true
}

case "${1:-}" in
  fetch) fetch; printf '%s\n' "$DIR" ;;
  dir) [[ -f "$DIR/.complete" ]] || die "not fetched yet: run $0 fetch"; printf '%s\n' "$DIR" ;;
  *) die "usage: $0 fetch|dir" ;;
esac
