// Argument checks of the N-API entry points. Every entry point takes float32
// typed arrays owned by JS (the cpu backend's tensor storage) and writes into
// an output array JS allocated; nothing keeps a pointer past the call. The
// checks are cheap (array type and length) and throw a TypeError/RangeError
// naming the function and the argument: a wrong array type would otherwise
// mean reading past a buffer.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace zsn {

// A typed array argument: its data, element count and element type.
struct View {
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_int8_array;
};

// Throws TypeError "native.<fn>: argument <arg> must be <what>".
[[noreturn]] void throwType(Napi::Env env, const char* fn, int arg, const char* what);

// Throws RangeError "native.<fn>: <what>".
[[noreturn]] void throwRange(Napi::Env env, const char* fn, const std::string& what);

// Argument i as a typed array of any type and length.
View typed(const Napi::CallbackInfo& info, int i, const char* fn);

// Argument i as a Float32Array of any length.
View f32View(const Napi::CallbackInfo& info, int i, const char* fn);

// Argument i as a Float32Array of at least minLength elements.
float* f32(const Napi::CallbackInfo& info, int i, const char* fn, size_t minLength);

// As f32, or null when argument i is null or undefined.
float* f32OrNull(const Napi::CallbackInfo& info, int i, const char* fn, size_t minLength);

// Argument i as an Int32Array; its element count goes to *length.
const int32_t* i32(const Napi::CallbackInfo& info, int i, const char* fn, size_t* length);

// Argument i as a string.
std::string str(const Napi::CallbackInfo& info, int i, const char* fn);

// Argument i as a number, an integer (truncated) or a boolean; unchecked
// (a wrong type reads as 0 or false).
inline double num(const Napi::CallbackInfo& info, int i) {
  double d = 0;
  napi_get_value_double(info.Env(), info[i], &d);
  return d;
}
inline int64_t inum(const Napi::CallbackInfo& info, int i) {
  return static_cast<int64_t>(num(info, i));
}
inline bool flag(const Napi::CallbackInfo& info, int i) {
  bool b = false;
  napi_get_value_bool(info.Env(), info[i], &b);
  return b;
}

}  // namespace zsn
