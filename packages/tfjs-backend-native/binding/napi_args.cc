// Argument checks of the N-API entry points (napi_args.h).
#include "napi_args.h"

namespace zsn {

void throwType(Napi::Env env, const char* fn, int arg, const char* what) {
  std::string msg =
      std::string("native.") + fn + ": argument " + std::to_string(arg) + " must be " + what;
  throw Napi::TypeError::New(env, msg);
}

void throwRange(Napi::Env env, const char* fn, const std::string& what) {
  throw Napi::RangeError::New(env, std::string("native.") + fn + ": " + what);
}

View typed(const Napi::CallbackInfo& info, int i, const char* fn) {
  View v;
  napi_value val = info[i];
  bool is = false;
  napi_is_typedarray(info.Env(), val, &is);
  if (!is) throwType(info.Env(), fn, i, "a typed array");
  napi_value ab;
  size_t off;
  napi_get_typedarray_info(info.Env(), val, &v.type, &v.length, &v.data, &ab, &off);
  return v;
}

View f32View(const Napi::CallbackInfo& info, int i, const char* fn) {
  View v = typed(info, i, fn);
  if (v.type != napi_float32_array) throwType(info.Env(), fn, i, "a Float32Array");
  return v;
}

float* f32(const Napi::CallbackInfo& info, int i, const char* fn, size_t minLength) {
  View v = f32View(info, i, fn);
  if (v.length < minLength) {
    throwRange(info.Env(), fn,
               "argument " + std::to_string(i) + " has " + std::to_string(v.length) +
                   " elements, needs " + std::to_string(minLength));
  }
  return static_cast<float*>(v.data);
}

float* f32OrNull(const Napi::CallbackInfo& info, int i, const char* fn, size_t minLength) {
  return info[i].IsNull() || info[i].IsUndefined() ? nullptr : f32(info, i, fn, minLength);
}

const int32_t* i32(const Napi::CallbackInfo& info, int i, const char* fn, size_t* length) {
  View v = typed(info, i, fn);
  if (v.type != napi_int32_array) throwType(info.Env(), fn, i, "an Int32Array");
  *length = v.length;
  return static_cast<const int32_t*>(v.data);
}

std::string str(const Napi::CallbackInfo& info, int i, const char* fn) {
  if (!info[i].IsString()) throwType(info.Env(), fn, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

}  // namespace zsn
