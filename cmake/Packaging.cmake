# Debian packages with CPack's DEB generator, one package per install component:
#   sign    -> ctlsign           the officer's program, ctlsign(1), bash completion
#   verify  -> ctlverify         the device program, ctlverify(1), bash completion
#   lib     -> libctlverify0     libctlverify.so.0 (SONAME) and its real file
#   dev     -> libctlverify-dev  ctlverify.h, libctlverify.so, ctlverify.pc
# Depends are computed from the binaries (dpkg-shlibdeps, package dpkg-dev), so the
# verifier side never depends on libp11 or pcsc-lite. scripts/package runs all this.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ctltools)
set(CPACK_PACKAGE_VENDOR ctltools)
set(CPACK_PACKAGE_CONTACT "ctltools maintainers <ctltools@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_COMPONENTS_ALL verify lib dev)
if(TARGET ctlsign)
  list(PREPEND CPACK_COMPONENTS_ALL sign)
endif()

set(CPACK_DEBIAN_SIGN_PACKAGE_NAME ctlsign)
set(CPACK_DEBIAN_SIGN_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_SIGN_DESCRIPTION
"sign Certificate Trust Lists and TFTP files with security tokens
The security officer's side of an IP-telephony cluster: lists tokens and changes
their PINs, builds and signs the cluster's Certificate Trust List under the
two-token rule, signs (.sgn) and encrypts (.enc.sgn) TFTP configuration files.
Private keys never leave the tokens (PKCS#11 through libp11, pcsc-lite).")

set(CPACK_DEBIAN_VERIFY_PACKAGE_NAME ctlverify)
set(CPACK_DEBIAN_VERIFY_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_VERIFY_DESCRIPTION
"check Certificate Trust Lists and signed TFTP files like a phone
The device side: shows and checks CTL/ITL and signed or encrypted TFTP files,
keeps a trust store (first CTL trusted on first use or pinned), boots like a
phone over TFTP and checks a CTI manager's TLS certificate against the CTL.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libctlverify0)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_LIB_DESCRIPTION
"device-side CTL/ITL trust decisions (shared library)
What IP phones and CTI/JTAPI clients decide about CTL/ITL files, signed and
encrypted TFTP files and a CTI manager's certificate, as a library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libctlverify-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libctlverify0 (= ${PROJECT_VERSION}), libssl-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
"device-side CTL/ITL trust decisions (development files)
The header ctlverify.h, the pkg-config file ctlverify.pc and the link-time
library for programs that link libctlverify.")

include(CPack)
