// CurlLibrary: dlopen of libcurl and the look-up of the functions gapwatch
// calls (see curl_library.h). One load at a time, under a function-local
// mutex.
#include "triggers/curl_library.h"

#include <dlfcn.h>

#include <optional>
#include <string>

#include <fmt/format.h>

#include "rules/mutex.h"

namespace gapwatch {

namespace {

constexpr const char* kSoname = "libcurl.so.4";

template <typename Function>
bool resolve(void* library, const char* name, Function& function, std::string& missing) {
  function = reinterpret_cast<Function>(dlsym(library, name));
  if (function == nullptr) {
    missing += missing.empty() ? name : fmt::format(", {}", name);
    return false;
  }
  return true;
}

struct Loaded {
  CurlLibrary functions;
  std::string error;  // empty when loaded
};

Loaded load() {
  Loaded loaded;
  // Never unloaded: libcurl keeps global state until the process ends.
  void* library = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* reason = dlerror();
    loaded.error = fmt::format("cannot load {} (install the libcurl4 package): {}", kSoname,
                               reason != nullptr ? reason : "unknown error");
    return loaded;
  }
  CurlLibrary& f = loaded.functions;
  std::string missing;
  resolve(library, "curl_easy_init", f.easy_init, missing);
  resolve(library, "curl_easy_setopt", f.easy_setopt, missing);
  resolve(library, "curl_easy_perform", f.easy_perform, missing);
  resolve(library, "curl_easy_getinfo", f.easy_getinfo, missing);
  resolve(library, "curl_easy_cleanup", f.easy_cleanup, missing);
  resolve(library, "curl_easy_strerror", f.easy_strerror, missing);
  resolve(library, "curl_slist_append", f.slist_append, missing);
  resolve(library, "curl_slist_free_all", f.slist_free_all, missing);
  resolve(library, "curl_getdate", f.getdate, missing);
  decltype(&::curl_global_init) global_init = nullptr;
  resolve(library, "curl_global_init", global_init, missing);
  if (!missing.empty()) {
    loaded.error = fmt::format("{} lacks {}", kSoname, missing);
    return loaded;
  }
  if (const CURLcode initialised = global_init(CURL_GLOBAL_DEFAULT); initialised != CURLE_OK) {
    loaded.error = fmt::format("curl_global_init failed: {}", f.easy_strerror(initialised));
  }
  return loaded;
}

}  // namespace

Expected<const CurlLibrary*> curl_library() {
  static Mutex mutex;
  static std::optional<CurlLibrary> library GUARDED_BY(mutex);  // set once loaded
  MutexLock lock(mutex);
  if (library) {
    return &*library;
  }
  // Tried again at each call until it works: libcurl may be installed later.
  Loaded loaded = load();
  if (!loaded.error.empty()) {
    return fail(loaded.error);
  }
  library = loaded.functions;
  return &*library;
}

}  // namespace gapwatch
