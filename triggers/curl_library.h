// CurlLibrary: libcurl, loaded with dlopen when the first webhook is sent
// rather than linked. Linked, it made every gapwatch command start about
// three times slower (check and validate too, which send nothing): libcurl
// brings some 25 libraries (GnuTLS, OpenSSL, Kerberos, LDAP, SSH, RTMP, ...)
// whose loading, relocation and constructors all ran before main.
//
// Thread-safe: the library is loaded and initialised once.
#pragma once

#include <curl/curl.h>

#include "rules/error.h"

namespace gapwatch {

// The libcurl functions gapwatch calls, resolved from the loaded library.
struct CurlLibrary {
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
  decltype(&::curl_getdate) getdate = nullptr;
};

// libcurl (soname libcurl.so.4), loaded and curl_global_init'ed on first use;
// an error names what could not be loaded, and the next call tries again.
Expected<const CurlLibrary*> curl_library();

}  // namespace gapwatch
