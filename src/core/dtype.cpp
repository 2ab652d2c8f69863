#include "core/dtype.h"

namespace lamina {

size_t dataTypeSize(laminaDataType_t t) {
  switch (t) {
  case LAMINA_DATA_FLOAT: return 4;
  case LAMINA_DATA_DOUBLE: return 8;
  case LAMINA_DATA_HALF: return 2;
  case LAMINA_DATA_BFLOAT16: return 2;
  case LAMINA_DATA_INT32: return 4;
  case LAMINA_DATA_INT8: return 1;
  case LAMINA_DATA_UINT8: return 1;
  }
  return 0;
}

bool isFloatingType(laminaDataType_t t) {
  return t == LAMINA_DATA_FLOAT || t == LAMINA_DATA_DOUBLE || t == LAMINA_DATA_HALF || t == LAMINA_DATA_BFLOAT16;
}

const char *dataTypeName(laminaDataType_t t) {
  switch (t) {
  case LAMINA_DATA_FLOAT: return "float";
  case LAMINA_DATA_DOUBLE: return "double";
  case LAMINA_DATA_HALF: return "half";
  case LAMINA_DATA_BFLOAT16: return "bfloat16";
  case LAMINA_DATA_INT32: return "int32";
  case LAMINA_DATA_INT8: return "int8";
  case LAMINA_DATA_UINT8: return "uint8";
  }
  return "invalid";
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f)
    return bitsToFloat(sign | 0x7f800000u | (man << 13)); // inf / NaN
  if (exp == 0) {
    if (man == 0)
      return bitsToFloat(sign);
    // subnormal: value = man * 2^-24
    float v = float(man) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return bitsToFloat(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t floatToHalf(float f) {
  uint32_t u = floatToBits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u)
    return uint16_t(sign | 0x7e00u); // NaN
  if (a >= 0x477ff000u)
    return uint16_t(sign | 0x7c00u); // rounds to >= 65520: inf
  if (a < 0x38800000u) {             // below the smallest normal half (2^-14)
    // subnormal or zero: round a * 2^24 to nearest even
    float v = bitsToFloat(a) * 16777216.0f; // exact scaling
    uint32_t m = uint32_t(v);
    float rem = v - float(m);
    if (rem > 0.5f || (rem == 0.5f && (m & 1u)))
      ++m;
    return uint16_t(sign | m);
  }
  uint32_t e = (a >> 23) - 112;
  uint32_t m = a & 0x7fffffu;
  uint32_t r = (e << 10) | (m >> 13);
  uint32_t rest = m & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (r & 1u)))
    ++r; // may carry into the exponent: correct
  return uint16_t(sign | r);
}

} // namespace lamina
