/**
 * QR rendering of an HC1 string (hcert spec §3.3.5 "2D Barcode"): QR code, alphanumeric mode (the Base45
 * alphabet and "HC1:" are exactly the QR alphanumeric set), error correction level Q (25 %).
 */
import QRCode from 'qrcode'

function segments (hc1: string): QRCode.QRCodeSegment[] {
  return [{ data: hc1, mode: 'alphanumeric' }]
}

export async function hc1ToPng (hc1: string, options: { width?: number, margin?: number } = {}): Promise<Buffer> {
  return QRCode.toBuffer(segments(hc1), { type: 'png', errorCorrectionLevel: 'Q', margin: options.margin ?? 4, width: options.width })
}

export async function hc1ToSvg (hc1: string, options: { margin?: number } = {}): Promise<string> {
  return QRCode.toString(segments(hc1), { type: 'svg', errorCorrectionLevel: 'Q', margin: options.margin ?? 4 })
}
