const sizeUnits = ['bytes', 'KB', 'MB', 'GB']
/** "2.4 MB"; decimal units, as file managers show them; the same in the app and in mail. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < sizeUnits.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}` : `${value.toFixed(value < 10 ? 1 : 0)} ${sizeUnits[unit]}`
}
